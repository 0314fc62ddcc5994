-- Any image as the style: the job's second upload (the style image), kept while the job
-- needs it like its photo. The same text in ../sqlite and ../postgres.
ALTER TABLE jobs ADD COLUMN style_upload_id TEXT REFERENCES uploads(id);
