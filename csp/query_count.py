"""An X-Query-Count header on every response, for bench/run. Off unless BENCH_QUERY_COUNT=1:
the benchmark reads how many queries each page ran from the server it times, without
DEBUG's connection.queries (which would slow every page it measures)."""

from django.db import connections

HEADER = "X-Query-Count"


class QueryCountHeaderMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = QueryCounter()
        with _wrapping(counter):
            response = self.get_response(request)
        response[HEADER] = str(counter.count)
        return response


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class _wrapping:
    """Count on every database connection this thread uses."""

    def __init__(self, counter):
        self.counter = counter
        self.contexts = []

    def __enter__(self):
        for connection in connections.all():
            context = connection.execute_wrapper(self.counter)
            context.__enter__()
            self.contexts.append(context)

    def __exit__(self, *exc):
        for context in reversed(self.contexts):
            context.__exit__(*exc)
