-- Reconciliation of `linkbert graph`: every link lands in exactly one bucket.
SELECT
  count(*) AS links,
  count(*) FILTER (resolution = 'direct') AS direct,
  count(*) FILTER (resolution = 'via_redirect') AS via_redirect,
  count(*) FILTER (resolution = 'dangling') AS dangling,
  count(*) FILTER (resolution = 'self') AS self,
  count(*) FILTER (resolution = 'non_article') AS non_article,
  (SELECT count(*) FROM edges) AS edges,
  (SELECT count(*) FROM articles) AS articles,
  (SELECT count(*) FROM redirect_chains) AS redirects,
  (SELECT count(*) FROM redirect_chains WHERE status = 'article') AS redirects_to_articles,
  (SELECT count(*) FROM redirect_chains WHERE hops > 1 AND status = 'article') AS redirect_chains,
  (SELECT count(*) FROM redirect_chains WHERE status = 'cycle') AS redirect_cycles,
  (SELECT count(*) FROM redirect_chains WHERE status = 'too_long') AS redirect_too_long,
  (SELECT count(*) FROM redirect_chains WHERE status = 'dangling') AS redirects_dangling,
  (SELECT count(*) FROM redirect_chains WHERE status = 'non_article') AS redirects_non_article,
  (SELECT count(*) FROM nodes WHERE copies > 1) AS duplicate_titles,
  (SELECT count(*) FROM degrees WHERE in_degree = 0) AS orphans,
  (SELECT count(*) FROM degrees WHERE out_degree = 0) AS dead_ends
FROM link_resolution;
