"""`itilflow dev` and the local Temporal dev server: the whole product on one machine.

A composition of the packages below it (api, worker, client, core), used by the `itilflow dev` and
`itilflow server` commands, the tests (`temporal_server`) and the benchmarks:

- supervisor.py: starts Temporal, the worker process and the API, waits until each is ready, stops
  them in order on Ctrl-C/SIGTERM (the entry point, `main`);
- options.py: its options (`DevOptions`), default ports and `DevError`;
- seed.py: the demo: shipped definitions published, demo users and groups, a few records;
- tokens.py: the demo users' API tokens and `demo-tokens.json`;
- banner.py: what it prints once ready;
- worker_process.py: the parent's end of the worker child process (the child's is worker/child.py);
- temporal_server.py: the `temporal server start-dev` subprocess (`DevServer`, `temporal_server`);
- temporal_cli.py: locating and building the Temporal CLI (`itilflow server install`);
- ports.py: free and taken ports, the API's socket bound up front;
- lifetime.py: child processes die with their parent.
"""
