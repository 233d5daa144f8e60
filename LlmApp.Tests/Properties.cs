// Tests start real processes (llama-server, the AppHost) and some measure timeouts: running the collections one
// after another keeps two AppHosts from competing for the two cores of a CI machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
