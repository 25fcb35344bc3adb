-- The most linked-to articles.
SELECT title, in_degree, out_degree FROM degrees ORDER BY in_degree DESC, title LIMIT 15;
