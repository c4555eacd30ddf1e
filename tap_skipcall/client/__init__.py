"""The base classes of every Skipcall stream: the request path, pages, children."""
