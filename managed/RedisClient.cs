// A small Redis client for the session-state store: one connection does one
// command at a time (send, then read its whole reply); a pool per endpoint and
// AppDomain keeps idle connections. Every wait is bounded: connectTimeout for
// the TCP connect, operationTimeout for a command (its send and its whole reply). Any failure
// discards the connection (and the idle ones with it: Redis probably
// restarted) and raises RedisUnavailableException; the next command connects
// afresh, so the client reconnects by itself when Redis returns.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace ScgiMono
{
	// Redis cannot be reached, did not answer in time, or answered something
	// that is not RESP. (An error reply, "-ERR ...", is RedisErrorException.)
	public sealed class RedisUnavailableException : Exception
	{
		public RedisUnavailableException (string message, Exception inner) : base (message, inner) { }
	}

	public sealed class RedisErrorException : Exception
	{
		public RedisErrorException (string message) : base (message) { }
	}

	public sealed class RedisSettings
	{
		public string Host = "127.0.0.1";
		public int Port = 6379;
		public int Database;
		public string Password;
		public int ConnectTimeoutMs = 2000;
		public int OperationTimeoutMs = 2000;
		// After a failed connect, commands fail at once for this long instead of
		// each waiting for its own connect timeout.
		public int RetryIntervalMs = 500;
		public int MaxIdle = 32;

		public string Endpoint {
			get { return Host + ":" + Port.ToString (CultureInfo.InvariantCulture) + "/" + Database.ToString (CultureInfo.InvariantCulture); }
		}
	}

	public sealed class RedisConnection : IDisposable
	{
		readonly Socket socket;
		readonly RespParser parser = new RespParser ();
		const int InitialBuffer = 16 * 1024;
		const int MaxKeptBuffer = 1024 * 1024;
		byte[] buf = new byte [InitialBuffer];
		int len; // bytes in buf not yet parsed (always from index 0)
		internal int Generation;

		readonly int timeoutMs;
		internal long Deadline; // Stopwatch timestamp: the end of the command under way
		int expired;

		RedisConnection (Socket s, int operationTimeoutMs)
		{
			socket = s;
			timeoutMs = operationTimeoutMs;
		}

		public static RedisConnection Open (RedisSettings cfg)
		{
			IPAddress addr;
			if (!IPAddress.TryParse (cfg.Host, out addr)) {
				IPAddress[] all = Dns.GetHostAddresses (cfg.Host);
				if (all.Length == 0)
					throw new IOException ("no address for " + cfg.Host);
				addr = all [0];
			}
			var s = new Socket (addr.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
			try {
				s.NoDelay = true;
				IAsyncResult ar = s.BeginConnect (new IPEndPoint (addr, cfg.Port), null, null);
				if (!ar.AsyncWaitHandle.WaitOne (cfg.ConnectTimeoutMs)) {
					s.Close ();
					throw new IOException ("connect timed out after " + cfg.ConnectTimeoutMs + " ms");
				}
				s.EndConnect (ar);
				s.SendTimeout = cfg.OperationTimeoutMs;
				s.ReceiveTimeout = cfg.OperationTimeoutMs;
				var c = new RedisConnection (s, cfg.OperationTimeoutMs);
				if (!string.IsNullOrEmpty (cfg.Password))
					c.Expect (c.Call (RespEncoder.Command ("AUTH", cfg.Password)), "AUTH");
				if (cfg.Database != 0)
					c.Expect (c.Call (RespEncoder.Command ("SELECT", cfg.Database.ToString (CultureInfo.InvariantCulture))), "SELECT");
				return c;
			} catch {
				s.Close ();
				throw;
			}
		}

		void Expect (RespValue v, string what)
		{
			if (v.Kind == RespKind.Error)
				throw new RedisErrorException (what + ": " + v.Text);
		}

		// True when the peer closed the idle connection (Redis restarted or
		// timed it out): readable with nothing to read.
		public bool LooksClosed ()
		{
			try {
				return socket.Poll (0, SelectMode.SelectRead) && socket.Available == 0;
			} catch (Exception) {
				return true;
			}
		}

		// Sends an encoded command and returns its reply (an error reply is a
		// RespValue of kind Error, not an exception).
		public RespValue Call (byte[] command)
		{
			Deadline = Stopwatch.GetTimestamp () + (long) timeoutMs * Stopwatch.Frequency / 1000;
			RedisWatchdog.Enter (this);
			try {
				return Exchange (command);
			} catch (Exception e) {
				if (expired != 0)
					throw new IOException ("no answer within " + timeoutMs + " ms", e);
				throw;
			} finally {
				RedisWatchdog.Leave (this);
			}
		}

		RespValue Exchange (byte[] command)
		{
			int sent = 0;
			while (sent < command.Length)
				sent += socket.Send (command, sent, command.Length - sent, SocketFlags.None);
			while (true) {
				RespValue v;
				int used;
				if (len > 0 && parser.TryParse (buf, 0, len, out v, out used)) {
					len -= used;
					if (len > 0) // nothing should follow a reply to one command
						throw new RespProtocolException ("bytes after the reply");
					if (buf.Length > MaxKeptBuffer) // one large session does not stay in every connection
						buf = new byte [InitialBuffer];
					return v;
				}
				if (len == buf.Length)
					Array.Resize (ref buf, buf.Length * 2);
				int n = socket.Receive (buf, len, buf.Length - len, SocketFlags.None);
				if (n == 0)
					throw new IOException ("Redis closed the connection");
				len += n;
			}
		}

		// Called by RedisWatchdog once Deadline has passed: closing the socket
		// ends the Send or Receive blocked on it.
		internal void Expire ()
		{
			if (Interlocked.Exchange (ref expired, 1) == 0)
				socket.Close ();
		}

		public void Dispose ()
		{
			socket.Close ();
		}
	}

	// operationTimeout is a bound on a whole command. SO_RCVTIMEO and
	// SO_SNDTIMEO (set as well) are not one: in the server under load, reads
	// with a 1 s timeout were seen blocked for 10 s, until executionTimeout
	// (Mono restarts a recv that a signal interrupts, apparently with the whole
	// timeout again; its GC suspends threads with signals under the server's
	// preemptive suspend). Polling the socket before each read bounds it too,
	// but Mono's Socket.Poll tripled the cost of a command. So a timer, every
	// 100 ms while commands are under way, closes the sockets of those past
	// their deadline, which ends their blocked call.
	static class RedisWatchdog
	{
		static readonly HashSet<RedisConnection> busy = new HashSet<RedisConnection> ();
		static Timer timer;

		public static void Enter (RedisConnection c)
		{
			lock (busy) {
				busy.Add (c);
				if (timer == null)
					timer = new Timer (Check, null, 100, 100);
			}
		}

		public static void Leave (RedisConnection c)
		{
			lock (busy)
				busy.Remove (c);
		}

		static void Check (object state)
		{
			try {
				long now = Stopwatch.GetTimestamp ();
				List<RedisConnection> late = null;
				lock (busy) {
					foreach (RedisConnection c in busy) {
						if (now > c.Deadline) {
							if (late == null)
								late = new List<RedisConnection> ();
							late.Add (c);
						}
					}
				}
				if (late != null)
					foreach (RedisConnection c in late)
						c.Expire ();
			} catch (Exception e) { // never out of a timer callback: that ends the process
				ServerLog.Write (ServerLog.Warn, "Redis watchdog: {0}", e.Message);
			}
		}
	}

	// Idle connections of one endpoint, for the whole AppDomain.
	public sealed class RedisPool
	{
		static readonly Dictionary<string, RedisPool> pools = new Dictionary<string, RedisPool> ();

		public readonly RedisSettings Settings;
		readonly Stack<RedisConnection> idle = new Stack<RedisConnection> ();
		int generation;
		long downUntil; // Stopwatch timestamp; 0: not down (see RetryIntervalMs)
		string lastFailure;

		RedisPool (RedisSettings s)
		{
			Settings = s;
		}

		public static RedisPool For (RedisSettings s)
		{
			string key = s.Endpoint + "|" + s.ConnectTimeoutMs + "|" + s.OperationTimeoutMs + "|" + (s.Password ?? "");
			lock (pools) {
				RedisPool p;
				if (!pools.TryGetValue (key, out p))
					pools [key] = p = new RedisPool (s);
				return p;
			}
		}

		// One command on a pooled connection. Throws RedisUnavailableException
		// (the connection is discarded) or returns the reply.
		public RespValue Call (byte[] command)
		{
			RedisConnection c = Take ();
			try {
				RespValue v = c.Call (command);
				Return (c);
				return v;
			} catch (Exception e) {
				c.Dispose ();
				if (e is ThreadAbortException)
					throw;
				Fail ();
				throw new RedisUnavailableException ("Redis " + Settings.Endpoint + ": " + e.Message, e);
			}
		}

		RedisConnection Take ()
		{
			int gen;
			lock (idle) {
				while (idle.Count > 0) {
					RedisConnection c = idle.Pop ();
					if (c.LooksClosed ()) {
						c.Dispose ();
						continue;
					}
					return c;
				}
				gen = generation;
				if (downUntil != 0 && Stopwatch.GetTimestamp () < downUntil)
					throw new RedisUnavailableException ("Redis " + Settings.Endpoint + ": " + lastFailure +
					                                     " (retried after " + Settings.RetryIntervalMs + " ms)", null);
			}
			try {
				RedisConnection c = RedisConnection.Open (Settings);
				c.Generation = gen;
				lock (idle)
					downUntil = 0;
				return c;
			} catch (Exception e) {
				if (e is ThreadAbortException)
					throw;
				lock (idle) {
					lastFailure = e.Message;
					downUntil = Stopwatch.GetTimestamp () + Settings.RetryIntervalMs * Stopwatch.Frequency / 1000;
				}
				Fail ();
				throw new RedisUnavailableException ("Redis " + Settings.Endpoint + ": " + e.Message, e);
			}
		}

		void Return (RedisConnection c)
		{
			lock (idle) {
				if (c.Generation == generation && idle.Count < Settings.MaxIdle) {
					idle.Push (c);
					return;
				}
			}
			c.Dispose ();
		}

		// A failure: the idle connections are likely dead as well (Redis restarted).
		void Fail ()
		{
			lock (idle) {
				generation++;
				while (idle.Count > 0)
					idle.Pop ().Dispose ();
			}
		}
	}

	// A Lua script run by EVALSHA, sent whole (EVAL) only when Redis does not
	// have it cached yet (NOSCRIPT: first use, or after a restart).
	public sealed class RedisScript
	{
		readonly byte[] body;
		readonly byte[] sha;

		public RedisScript (string lua)
		{
			body = Encoding.UTF8.GetBytes (lua);
			using (var h = SHA1.Create ()) {
				var sb = new StringBuilder ();
				foreach (byte b in h.ComputeHash (body))
					sb.Append (b.ToString ("x2", CultureInfo.InvariantCulture));
				sha = Encoding.ASCII.GetBytes (sb.ToString ());
			}
		}

		static readonly byte[] EvalSha = Encoding.ASCII.GetBytes ("EVALSHA");
		static readonly byte[] Eval = Encoding.ASCII.GetBytes ("EVAL");
		static readonly byte[] One = Encoding.ASCII.GetBytes ("1");

		// One key, any arguments. Throws RedisErrorException on an error reply.
		public RespValue Run (RedisPool pool, byte[] key, params byte[][] args)
		{
			var cmd = new byte [args.Length + 4][];
			cmd [0] = EvalSha;
			cmd [1] = sha;
			cmd [2] = One;
			cmd [3] = key;
			Array.Copy (args, 0, cmd, 4, args.Length);
			RespValue v = pool.Call (RespEncoder.Command (cmd));
			if (v.Kind == RespKind.Error && v.Text.StartsWith ("NOSCRIPT", StringComparison.Ordinal)) {
				cmd [0] = Eval;
				cmd [1] = body;
				v = pool.Call (RespEncoder.Command (cmd));
			}
			if (v.Kind == RespKind.Error)
				throw new RedisErrorException ("Redis script: " + v.Text);
			return v;
		}
	}
}
