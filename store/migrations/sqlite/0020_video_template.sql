-- Image→video: the first video template, on the local engine (`local-motion`: a style morph
-- over a camera move, encoded by ffmpeg). Its cost is per second of output (the job's
-- `seconds`, rounded up). Offered only where ffmpeg is installed.
INSERT INTO templates (id, name, description, mode, generator, params, cost, position, preview_url, created_at, updated_at) VALUES
    ('photo-to-video', 'Photo to video', 'A short clip from your photo: the style fades in while the camera moves. Priced per second of video.',
     'image_to_video', 'local-motion', '{"from": "photo", "camera": "zoom_in", "seconds": 4, "fps": 24, "max_side": 512}', 1, 1000,
     '/previews/style-05.jpg', 0, 0);
