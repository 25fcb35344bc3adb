-- Linked pairs with titles: the anchor's article, the linked article drawn for B, and the start of each segment.
-- param: limit = 20
SELECT p.id, a.title AS a_title, p.a_idx, b.title AS b_title, p.b_idx, d.in_degree AS b_in_degree,
       substr(a.text, sa.char_start + 1, 80) AS a_text, substr(b.text, sb.char_start + 1, 80) AS b_text
FROM pairs p
JOIN articles a ON a.seq = p.a_article
JOIN articles b ON b.seq = p.b_article
JOIN degrees d ON d.article = p.b_article
JOIN segments sa ON sa.article = p.a_article AND sa.idx = p.a_idx
JOIN segments sb ON sb.article = p.b_article AND sb.idx = p.b_idx
WHERE p.label = 2
ORDER BY p.id
LIMIT $limit::INTEGER;
