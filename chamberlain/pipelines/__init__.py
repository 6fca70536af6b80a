"""Pipeline files shipped with Chamberlain (``chamberlain pipeline list``).

Each ``NAME.yaml`` here is addressed by ``NAME`` wherever a pipeline is
expected (``chamberlain pipeline show templates``, ``Pipeline.from_file("templates")``).
"""
