-- The edges of the articles with src in [$from, $to), in (src, dst) order. `linkbert graph` runs it
-- for consecutive ranges, so the table is that of one GROUP BY over all links, while the
-- aggregate holds one range's edges at a time (--memory ÷ 8 bytes of links: 16M at 128MB), within
-- --memory at any corpus size (one GROUP BY of 57.8M links into 43.2M edges does not fit in 128MB).
INSERT INTO edges
SELECT src, dst, count(*)::INTEGER AS n, count("offset")::INTEGER AS n_text
FROM link_resolution
WHERE resolution IN ('direct', 'via_redirect') AND src >= $from::INTEGER AND src < $to::INTEGER
GROUP BY src, dst
ORDER BY src, dst;
