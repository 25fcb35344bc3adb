-- One side of an example: its article's title and the segment's span of the clean text.
SELECT title, substr(text, $start + 1, $end - $start) AS text FROM articles WHERE seq = $seq;
