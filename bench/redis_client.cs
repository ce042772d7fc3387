// Round trips per second of ScgiMono's Redis client (RedisPool.Call, one
// connection, one command at a time) for SET, GET and EVALSHA of the session
// read script, to set against `redis-benchmark -q -t get,set -c 1` (hiredis,
// C). Usage: mono redis_client.exe PORT [N]. Built and run by bench/redis_client.sh.
using System;
using System.Diagnostics;
using System.Text;
using ScgiMono;

static class RedisClientBench
{
	static void Main (string[] args)
	{
		var cfg = new RedisSettings { Port = int.Parse (args [0]) };
		int n = args.Length > 1 ? int.Parse (args [1]) : 50000;
		RedisPool pool = RedisPool.For (cfg);
		byte[] value = new byte [3]; // redis-benchmark's default value size
		var script = new RedisScript ("return redis.call('GET', KEYS[1])");
		Run ("SET", n, () => pool.Call (RespEncoder.Command (new [] { Encoding.ASCII.GetBytes ("SET"), Encoding.ASCII.GetBytes ("key:bench"), value })));
		Run ("GET", n, () => pool.Call (RespEncoder.Command ("GET", "key:bench")));
		Run ("EVALSHA", n, () => script.Run (pool, Encoding.ASCII.GetBytes ("key:bench")));
	}

	static void Run (string name, int n, Action a)
	{
		for (int i = 0; i < 1000; i++)
			a ();
		var sw = Stopwatch.StartNew ();
		for (int i = 0; i < n; i++)
			a ();
		Console.WriteLine ("{0}: {1:F0} requests per second", name, n / sw.Elapsed.TotalSeconds);
	}
}
