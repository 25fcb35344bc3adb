-- The links of one article (or of the article a redirect leads to), in wikitext order, with where each resolves.
-- param: title
SELECT l.idx, l.target, l.anchor, l."offset", l.origin, r.resolution, d.title AS resolves_to
FROM links l
JOIN link_resolution r ON r.src = l.src AND r.idx = l.idx
LEFT JOIN articles d ON d.seq = r.dst
WHERE l.src = coalesce(
  (SELECT seq FROM nodes WHERE title = $title AND kind = 'article'),
  (SELECT article FROM redirect_chains WHERE title = $title)
)
ORDER BY l.idx;
