-- Each split's pairs, labels and articles (`linkbert pairs --validation`): the pairs drawn, the
-- anchors labelled (one pair each, unless a split has too few articles to draw a random B from),
-- the articles with segments and those with a segment to draw as B.
WITH s AS (SELECT * FROM (VALUES ('train', false), ('validation', true)) t(split, held))
SELECT s.split,
  (SELECT count(*) FROM pairs p WHERE p.split = s.split)::INTEGER AS pairs,
  (SELECT count(*) FROM labelled l WHERE l.held = s.held)::INTEGER AS anchors,
  (SELECT count(*) FROM pairs p WHERE p.split = s.split AND label = 0)::INTEGER AS l0,
  (SELECT count(*) FROM pairs p WHERE p.split = s.split AND label = 1)::INTEGER AS l1,
  (SELECT count(*) FROM pairs p WHERE p.split = s.split AND label = 2)::INTEGER AS l2,
  (SELECT count(DISTINCT a_article) FROM pairs p WHERE p.split = s.split)::INTEGER AS articles,
  (SELECT count(*) FROM seg_n n WHERE n.held = s.held)::INTEGER AS articles_with_segments,
  (SELECT count(*) FROM b_articles b WHERE b.held = s.held)::INTEGER AS b_articles
FROM s ORDER BY s.split;
