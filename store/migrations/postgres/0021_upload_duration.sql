-- Uploads can be clips (video→video): their length, in milliseconds, as the cleaned copy
-- decodes (NULL for images). A clip template's price is per second of it.
ALTER TABLE uploads ADD COLUMN duration_ms BIGINT;
-- Video→video: the second video template, every frame of the member's clip restyled.
INSERT INTO templates (id, name, description, mode, generator, params, cost, position, preview_url, created_at, updated_at) VALUES
    ('video-restyle', 'Restyle a video', 'Every frame of your clip in a style, smoothed so it does not flicker. Priced per second of video.',
     'video_to_video', 'local-video-style', '{"smoothing": 0.85, "max_side": 512}', 1, 1010,
     '/previews/style-08.jpg', 0, 0);
