-- Templates are operator data: a named preset of mode, generator chain (primary + fallbacks,
-- JSON array), fixed parameters (JSON object), prompt template with a `{prompt}` slot, negative
-- prompt and credit cost (NULL: the operator's default price, DARKROOM_GENERATION_COST).
-- Seeded with what the code offered before (the 26 styles and their colour-keeping variants,
-- any image as the style, and an edit and a text→image template per remote provider, listed
-- only where that provider is configured). Each job records its template; `uses` counts them.
-- Text→image jobs have no photo: `jobs.upload_id` becomes optional.
-- Keep in step with ../postgres/0011_templates.sql.

CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL CHECK (mode IN ('image_to_image', 'text_to_image', 'image_to_video', 'video_to_video')),
    generator TEXT NOT NULL,
    fallbacks TEXT NOT NULL DEFAULT '[]',
    params TEXT NOT NULL DEFAULT '{}',
    prompt_template TEXT NOT NULL DEFAULT '{prompt}',
    negative_prompt TEXT NOT NULL DEFAULT '',
    cost BIGINT CHECK (cost IS NULL OR cost >= 0),
    position BIGINT NOT NULL,
    preview_url TEXT NOT NULL DEFAULT '',
    uses BIGINT NOT NULL DEFAULT 0,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX templates_order ON templates (position, id);

INSERT INTO templates (id, name, description, mode, generator, params, position, preview_url, created_at, updated_at) VALUES
    ('style-01', 'Style 1', 'Style 1 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 0, "strength": 1.0, "preserve_color": false}', 10, '/previews/style-00.jpg', 0, 0),
    ('style-01-color', 'Style 1 (original colours)', 'Style 1 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 0, "strength": 1.0, "preserve_color": true}', 20, '/previews/style-00.jpg', 0, 0),
    ('style-02', 'Style 2', 'Style 2 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 1, "strength": 1.0, "preserve_color": false}', 30, '/previews/style-01.jpg', 0, 0),
    ('style-02-color', 'Style 2 (original colours)', 'Style 2 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 1, "strength": 1.0, "preserve_color": true}', 40, '/previews/style-01.jpg', 0, 0),
    ('style-03', 'Style 3', 'Style 3 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 2, "strength": 1.0, "preserve_color": false}', 50, '/previews/style-02.jpg', 0, 0),
    ('style-03-color', 'Style 3 (original colours)', 'Style 3 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 2, "strength": 1.0, "preserve_color": true}', 60, '/previews/style-02.jpg', 0, 0),
    ('style-04', 'Style 4', 'Style 4 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 3, "strength": 1.0, "preserve_color": false}', 70, '/previews/style-03.jpg', 0, 0),
    ('style-04-color', 'Style 4 (original colours)', 'Style 4 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 3, "strength": 1.0, "preserve_color": true}', 80, '/previews/style-03.jpg', 0, 0),
    ('style-05', 'Style 5', 'Style 5 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 4, "strength": 1.0, "preserve_color": false}', 90, '/previews/style-04.jpg', 0, 0),
    ('style-05-color', 'Style 5 (original colours)', 'Style 5 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 4, "strength": 1.0, "preserve_color": true}', 100, '/previews/style-04.jpg', 0, 0),
    ('style-06', 'Style 6', 'Style 6 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 5, "strength": 1.0, "preserve_color": false}', 110, '/previews/style-05.jpg', 0, 0),
    ('style-06-color', 'Style 6 (original colours)', 'Style 6 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 5, "strength": 1.0, "preserve_color": true}', 120, '/previews/style-05.jpg', 0, 0),
    ('style-07', 'Style 7', 'Style 7 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 6, "strength": 1.0, "preserve_color": false}', 130, '/previews/style-06.jpg', 0, 0),
    ('style-07-color', 'Style 7 (original colours)', 'Style 7 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 6, "strength": 1.0, "preserve_color": true}', 140, '/previews/style-06.jpg', 0, 0),
    ('style-08', 'Style 8', 'Style 8 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 7, "strength": 1.0, "preserve_color": false}', 150, '/previews/style-07.jpg', 0, 0),
    ('style-08-color', 'Style 8 (original colours)', 'Style 8 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 7, "strength": 1.0, "preserve_color": true}', 160, '/previews/style-07.jpg', 0, 0),
    ('style-09', 'Style 9', 'Style 9 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 8, "strength": 1.0, "preserve_color": false}', 170, '/previews/style-08.jpg', 0, 0),
    ('style-09-color', 'Style 9 (original colours)', 'Style 9 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 8, "strength": 1.0, "preserve_color": true}', 180, '/previews/style-08.jpg', 0, 0),
    ('style-10', 'Style 10', 'Style 10 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 9, "strength": 1.0, "preserve_color": false}', 190, '/previews/style-09.jpg', 0, 0),
    ('style-10-color', 'Style 10 (original colours)', 'Style 10 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 9, "strength": 1.0, "preserve_color": true}', 200, '/previews/style-09.jpg', 0, 0),
    ('style-11', 'Style 11', 'Style 11 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 10, "strength": 1.0, "preserve_color": false}', 210, '/previews/style-10.jpg', 0, 0),
    ('style-11-color', 'Style 11 (original colours)', 'Style 11 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 10, "strength": 1.0, "preserve_color": true}', 220, '/previews/style-10.jpg', 0, 0),
    ('style-12', 'Style 12', 'Style 12 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 11, "strength": 1.0, "preserve_color": false}', 230, '/previews/style-11.jpg', 0, 0),
    ('style-12-color', 'Style 12 (original colours)', 'Style 12 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 11, "strength": 1.0, "preserve_color": true}', 240, '/previews/style-11.jpg', 0, 0),
    ('style-13', 'Style 13', 'Style 13 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 12, "strength": 1.0, "preserve_color": false}', 250, '/previews/style-12.jpg', 0, 0),
    ('style-13-color', 'Style 13 (original colours)', 'Style 13 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 12, "strength": 1.0, "preserve_color": true}', 260, '/previews/style-12.jpg', 0, 0),
    ('style-14', 'Style 14', 'Style 14 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 13, "strength": 1.0, "preserve_color": false}', 270, '/previews/style-13.jpg', 0, 0),
    ('style-14-color', 'Style 14 (original colours)', 'Style 14 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 13, "strength": 1.0, "preserve_color": true}', 280, '/previews/style-13.jpg', 0, 0),
    ('style-15', 'Style 15', 'Style 15 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 14, "strength": 1.0, "preserve_color": false}', 290, '/previews/style-14.jpg', 0, 0),
    ('style-15-color', 'Style 15 (original colours)', 'Style 15 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 14, "strength": 1.0, "preserve_color": true}', 300, '/previews/style-14.jpg', 0, 0),
    ('style-16', 'Style 16', 'Style 16 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 15, "strength": 1.0, "preserve_color": false}', 310, '/previews/style-15.jpg', 0, 0),
    ('style-16-color', 'Style 16 (original colours)', 'Style 16 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 15, "strength": 1.0, "preserve_color": true}', 320, '/previews/style-15.jpg', 0, 0),
    ('style-17', 'Style 17', 'Style 17 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 16, "strength": 1.0, "preserve_color": false}', 330, '/previews/style-16.jpg', 0, 0),
    ('style-17-color', 'Style 17 (original colours)', 'Style 17 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 16, "strength": 1.0, "preserve_color": true}', 340, '/previews/style-16.jpg', 0, 0),
    ('style-18', 'Style 18', 'Style 18 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 17, "strength": 1.0, "preserve_color": false}', 350, '/previews/style-17.jpg', 0, 0),
    ('style-18-color', 'Style 18 (original colours)', 'Style 18 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 17, "strength": 1.0, "preserve_color": true}', 360, '/previews/style-17.jpg', 0, 0),
    ('style-19', 'Style 19', 'Style 19 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 18, "strength": 1.0, "preserve_color": false}', 370, '/previews/style-18.jpg', 0, 0),
    ('style-19-color', 'Style 19 (original colours)', 'Style 19 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 18, "strength": 1.0, "preserve_color": true}', 380, '/previews/style-18.jpg', 0, 0),
    ('style-20', 'Style 20', 'Style 20 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 19, "strength": 1.0, "preserve_color": false}', 390, '/previews/style-19.jpg', 0, 0),
    ('style-20-color', 'Style 20 (original colours)', 'Style 20 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 19, "strength": 1.0, "preserve_color": true}', 400, '/previews/style-19.jpg', 0, 0),
    ('style-21', 'Style 21', 'Style 21 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 20, "strength": 1.0, "preserve_color": false}', 410, '/previews/style-20.jpg', 0, 0),
    ('style-21-color', 'Style 21 (original colours)', 'Style 21 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 20, "strength": 1.0, "preserve_color": true}', 420, '/previews/style-20.jpg', 0, 0),
    ('style-22', 'Style 22', 'Style 22 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 21, "strength": 1.0, "preserve_color": false}', 430, '/previews/style-21.jpg', 0, 0),
    ('style-22-color', 'Style 22 (original colours)', 'Style 22 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 21, "strength": 1.0, "preserve_color": true}', 440, '/previews/style-21.jpg', 0, 0),
    ('style-23', 'Style 23', 'Style 23 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 22, "strength": 1.0, "preserve_color": false}', 450, '/previews/style-22.jpg', 0, 0),
    ('style-23-color', 'Style 23 (original colours)', 'Style 23 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 22, "strength": 1.0, "preserve_color": true}', 460, '/previews/style-22.jpg', 0, 0),
    ('style-24', 'Style 24', 'Style 24 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 23, "strength": 1.0, "preserve_color": false}', 470, '/previews/style-23.jpg', 0, 0),
    ('style-24-color', 'Style 24 (original colours)', 'Style 24 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 23, "strength": 1.0, "preserve_color": true}', 480, '/previews/style-23.jpg', 0, 0),
    ('style-25', 'Style 25', 'Style 25 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 24, "strength": 1.0, "preserve_color": false}', 490, '/previews/style-24.jpg', 0, 0),
    ('style-25-color', 'Style 25 (original colours)', 'Style 25 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 24, "strength": 1.0, "preserve_color": true}', 500, '/previews/style-24.jpg', 0, 0),
    ('style-26', 'Style 26', 'Style 26 over your photo at full strength.', 'image_to_image', 'local-style', '{"style": 25, "strength": 1.0, "preserve_color": false}', 510, '/previews/style-25.jpg', 0, 0),
    ('style-26-color', 'Style 26 (original colours)', 'Style 26 over your photo, keeping the photo''s own colours.', 'image_to_image', 'local-style', '{"style": 25, "strength": 1.0, "preserve_color": true}', 520, '/previews/style-25.jpg', 0, 0),
    ('any-style', 'Any image as the style', 'Upload a second image: its look is applied to your photo.', 'image_to_image', 'local-any-style', '{"strength": 1.0, "preserve_color": false}', 530, '', 0, 0),
    ('openai-edit', 'OpenAI: edit a photo', 'Your photo changed as the prompt describes, by OpenAI.', 'image_to_image', 'openai', '{}', 540, '', 0, 0),
    ('gemini-edit', 'Google Gemini: edit a photo', 'Your photo changed as the prompt describes, by Google Gemini.', 'image_to_image', 'gemini', '{}', 550, '', 0, 0),
    ('openrouter-edit', 'OpenRouter: edit a photo', 'Your photo changed as the prompt describes, by OpenRouter.', 'image_to_image', 'openrouter', '{}', 560, '', 0, 0),
    ('automatic1111-edit', 'Stable Diffusion (AUTOMATIC1111): edit a photo', 'Your photo changed as the prompt describes, by Stable Diffusion (AUTOMATIC1111).', 'image_to_image', 'automatic1111', '{}', 570, '', 0, 0),
    ('replicate-edit', 'Replicate: edit a photo', 'Your photo changed as the prompt describes, by a model on Replicate.', 'image_to_image', 'replicate', '{}', 580, '', 0, 0),
    ('openai-image', 'OpenAI: text to image', 'A new image from your prompt, by OpenAI.', 'text_to_image', 'openai', '{}', 590, '', 0, 0),
    ('gemini-image', 'Google Gemini: text to image', 'A new image from your prompt, by Google Gemini.', 'text_to_image', 'gemini', '{}', 600, '', 0, 0),
    ('openrouter-image', 'OpenRouter: text to image', 'A new image from your prompt, by OpenRouter.', 'text_to_image', 'openrouter', '{}', 610, '', 0, 0),
    ('automatic1111-image', 'Stable Diffusion (AUTOMATIC1111): text to image', 'A new image from your prompt, by Stable Diffusion (AUTOMATIC1111).', 'text_to_image', 'automatic1111', '{}', 620, '', 0, 0),
    ('replicate-image', 'Replicate: text to image', 'A new image from your prompt, by a model on Replicate.', 'text_to_image', 'replicate', '{}', 630, '', 0, 0);

-- SQLite cannot drop NOT NULL: rebuild `jobs`. Other tables reference it (share links, likes,
-- webhook deliveries), so the foreign keys are deferred to the commit: the rows come back
-- before it, and a row without its job would still fail the migration.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE jobs_old AS SELECT * FROM jobs;
DROP TABLE jobs;
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    upload_id TEXT REFERENCES uploads(id),
    mode TEXT NOT NULL,
    params TEXT NOT NULL,
    cost BIGINT NOT NULL CHECK (cost >= 0),
    status TEXT NOT NULL CHECK (status IN ('queued', 'review', 'running', 'succeeded', 'rejected', 'failed', 'canceled')),
    progress BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    result_key TEXT,
    thumb_key TEXT,
    result_hash TEXT,
    result_width BIGINT,
    result_height BIGINT,
    visibility TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'link', 'public')),
    idempotency_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    deleted_at BIGINT,
    prompt TEXT NOT NULL DEFAULT '',
    moderation_category TEXT,
    hidden_at BIGINT,
    showcase_at BIGINT,
    style BIGINT NOT NULL DEFAULT -1,
    api_key_id TEXT,
    request_hash TEXT,
    attempt_started_at BIGINT,
    style_upload_id TEXT REFERENCES uploads(id),
    template_id TEXT REFERENCES templates(id),
    UNIQUE (user_id, idempotency_key)
);
INSERT INTO jobs (id, user_id, upload_id, mode, params, cost, status, progress, error, attempts, lease_owner, lease_until,
    result_key, thumb_key, result_hash, result_width, result_height, visibility, idempotency_key, created_at, started_at,
    finished_at, deleted_at, prompt, moderation_category, hidden_at, showcase_at, style, api_key_id, request_hash,
    attempt_started_at, style_upload_id)
SELECT id, user_id, upload_id, mode, params, cost, status, progress, error, attempts, lease_owner, lease_until,
    result_key, thumb_key, result_hash, result_width, result_height, visibility, idempotency_key, created_at, started_at,
    finished_at, deleted_at, prompt, moderation_category, hidden_at, showcase_at, style, api_key_id, request_hash,
    attempt_started_at, style_upload_id FROM jobs_old;
DROP TABLE jobs_old;
CREATE INDEX jobs_queue ON jobs (status, created_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
CREATE INDEX jobs_public ON jobs (visibility, id);
CREATE INDEX jobs_public_style ON jobs (visibility, style, id);
CREATE INDEX jobs_user_style ON jobs (user_id, style, id);
CREATE INDEX jobs_api_key ON jobs (api_key_id, created_at);
CREATE INDEX jobs_template ON jobs (template_id, created_at);
