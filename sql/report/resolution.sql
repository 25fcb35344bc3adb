-- Where the links of the articles end: directly at an article, through redirects, elsewhere.
SELECT resolution, count(*) AS links FROM link_resolution GROUP BY 1 ORDER BY 2 DESC;
