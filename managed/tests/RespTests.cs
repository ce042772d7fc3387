// The Redis protocol of RedisSessionStateStore: the command encoder, the reply
// parser (every reply kind, binary bulk strings, nulls, errors, replies cut at
// every byte, malformed input, random bytes and mutations), the client's
// timeouts and reconnection against a fake server on loopback, and the session
// data format (ASP.NET's own SessionStateItemCollection serialization).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Web;
using System.Web.SessionState;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class RespTests
	{
		static byte[] B (string s) { return Encoding.UTF8.GetBytes (s); }

		static RespValue ParseAll (string s)
		{
			RespValue v;
			int used;
			byte[] b = B (s);
			Assert.IsTrue (new RespParser ().TryParse (b, 0, b.Length, out v, out used), "complete: " + s);
			Assert.AreEqual (b.Length, used, "consumed all of " + s);
			return v;
		}

		static void Malformed (string s)
		{
			byte[] b = B (s);
			RespValue v;
			int used;
			Assert.Throws<RespProtocolException> (() => new RespParser (1024, 16).TryParse (b, 0, b.Length, out v, out used),
			                                      "malformed: " + s.Replace ("\r", "\\r").Replace ("\n", "\\n"));
		}

		[Test]
		public void Encoder_WritesArraysOfBulkStrings_BinarySafe ()
		{
			Assert.AreEqual ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", Encoding.UTF8.GetString (RespEncoder.Command ("GET", "k")));
			byte[] cmd = RespEncoder.Command (new List<byte[]> { B ("SET"), B ("a\r\nb"), new byte [0] });
			Assert.AreEqual ("*3\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n$0\r\n\r\n", Encoding.UTF8.GetString (cmd));
			Assert.AreEqual ("*1\r\n$2\r\n\u00e9\r\n".Length + 1, RespEncoder.Command ("\u00e9").Length, "UTF-8 length counted in bytes");
		}

		[Test]
		public void Parser_EveryKind ()
		{
			Assert.AreEqual ("OK", ParseAll ("+OK\r\n").Text);
			RespValue e = ParseAll ("-NOSCRIPT No matching script\r\n");
			Assert.AreEqual (RespKind.Error, e.Kind);
			Assert.AreEqual ("NOSCRIPT No matching script", e.Text);
			Assert.AreEqual (-42, ParseAll (":-42\r\n").Integer);
			Assert.AreEqual (long.MaxValue, ParseAll (":9223372036854775807\r\n").Integer);
			Assert.AreEqual ("a\r\nb", Encoding.UTF8.GetString (ParseAll ("$4\r\na\r\nb\r\n").Bytes), "CRLF inside a bulk string");
			Assert.AreEqual (0, ParseAll ("$0\r\n\r\n").Bytes.Length);
			Assert.IsTrue (ParseAll ("$-1\r\n").IsNull, "null bulk");
			Assert.IsTrue (ParseAll ("*-1\r\n").IsNull, "null array");
			Assert.AreEqual (0, ParseAll ("*0\r\n").Items.Length);
			RespValue a = ParseAll ("*4\r\n:2\r\n$-1\r\n$2\r\n\r\n\r\n*1\r\n-ERR x\r\n");
			Assert.AreEqual (4, a.Items.Length);
			Assert.AreEqual (2, a.Items [0].AsInteger ());
			Assert.IsTrue (a.Items [1].IsNull);
			Assert.AreEqual ("\r\n", a.Items [2].AsString ());
			Assert.AreEqual ("ERR x", a.Items [3].Items [0].Text);
		}

		[Test]
		public void Parser_StopsAtTheEndOfOneReply ()
		{
			RespValue v;
			int used;
			byte[] b = B (":1\r\n:2\r\n");
			Assert.IsTrue (new RespParser ().TryParse (b, 0, b.Length, out v, out used));
			Assert.AreEqual (4, used);
			Assert.IsTrue (new RespParser ().TryParse (b, 4, 4, out v, out used));
			Assert.AreEqual (2, v.Integer);
		}

		static readonly string[] Valid = {
			"+OK\r\n", "-ERR wrong\r\n", ":0\r\n", ":-1\r\n", "$5\r\nhe\r\no\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
			"*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n+x\r\n", "$10\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
		};

		[Test]
		public void Parser_EveryCutIsIncomplete_NotAnError ()
		{
			foreach (string s in Valid) {
				byte[] b = B (s);
				for (int cut = 0; cut < b.Length; cut++) {
					RespValue v;
					int used;
					Assert.IsFalse (new RespParser ().TryParse (b, 0, cut, out v, out used), s + " cut at " + cut);
					Assert.IsNull (v);
					Assert.AreEqual (0, used);
				}
				ParseAll (s);
			}
		}

		[Test]
		public void Parser_RefusesMalformedReplies ()
		{
			Malformed ("?what\r\n");            // unknown type byte
			Malformed ("HTTP/1.1 200 OK\r\n");   // not Redis at all
			Malformed (":12a\r\n");
			Malformed (":\r\n");
			Malformed (":-\r\n");
			Malformed (":99999999999999999999\r\n"); // overflows
			Malformed ("$-2\r\n");
			Malformed ("$x\r\n");
			Malformed ("$3\r\nabcd\r\n");        // no CRLF after the announced length
			Malformed ("$2000\r\n");             // over the parser's bulk limit
			Malformed ("*17\r\n");               // over its array limit
			Malformed ("*-5\r\n");
			Malformed ("+OK\n");                 // LF without CR
			Malformed ("+O\rK\r\n");             // CR without LF
			Malformed ("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"); // nested too deep
			Malformed ("*2\r\n:1\r\n?\r\n");    // a bad item inside an array
		}

		// Random values, encoded as a server would, parse back equal at any cut.
		[Test]
		public void Parser_RoundTripsRandomReplies ()
		{
			var rnd = new Random (12);
			for (int i = 0; i < 2000; i++) {
				var sb = new MemoryStream ();
				string expected = Gen (rnd, sb, 0);
				byte[] b = sb.ToArray ();
				RespValue v;
				int used;
				int cut = rnd.Next (b.Length);
				Assert.IsFalse (new RespParser ().TryParse (b, 0, cut, out v, out used), "incomplete at " + cut);
				Assert.IsTrue (new RespParser ().TryParse (b, 0, b.Length, out v, out used));
				Assert.AreEqual (b.Length, used);
				Assert.AreEqual (expected, Show (v));
			}
		}

		static string Gen (Random rnd, MemoryStream ms, int depth)
		{
			int k = rnd.Next (depth < 3 ? 6 : 5);
			switch (k) {
			case 0: Write (ms, "+s" + rnd.Next () + "\r\n"); return "S:s" + rnd.Next (0);
			case 1: { long n = (long) (rnd.NextDouble () * long.MaxValue) * (rnd.Next (2) == 0 ? 1 : -1);
				Write (ms, ":" + n + "\r\n"); return "I:" + n; }
			case 2: {
				var b = new byte [rnd.Next (40)];
				rnd.NextBytes (b);
				if (b.Length > 2) { b [0] = (byte) '\r'; b [1] = (byte) '\n'; }
				Write (ms, "$" + b.Length + "\r\n");
				ms.Write (b, 0, b.Length);
				Write (ms, "\r\n");
				return "B:" + BitConverter.ToString (b);
			}
			case 3: Write (ms, "$-1\r\n"); return "N";
			case 4: Write (ms, "-E" + depth + "\r\n"); return "E:E" + depth;
			default: {
				int n = rnd.Next (5);
				Write (ms, "*" + n + "\r\n");
				var parts = new List<string> ();
				for (int i = 0; i < n; i++)
					parts.Add (Gen (rnd, ms, depth + 1));
				return "A[" + string.Join (",", parts) + "]";
			}
			}
		}

		static void Write (MemoryStream ms, string s)
		{
			byte[] b = Encoding.ASCII.GetBytes (s);
			ms.Write (b, 0, b.Length);
		}

		static string Show (RespValue v)
		{
			switch (v.Kind) {
			case RespKind.Simple: return "S:" + v.Text.Substring (0, 1) + "0";
			case RespKind.Integer: return "I:" + v.Integer;
			case RespKind.Bulk: return "B:" + BitConverter.ToString (v.Bytes);
			case RespKind.Null: return "N";
			case RespKind.Error: return "E:" + v.Text;
			default: {
				var parts = new List<string> ();
				foreach (RespValue i in v.Items)
					parts.Add (Show (i));
				return "A[" + string.Join (",", parts) + "]";
			}
			}
		}

		// Fuzz-style: random bytes and random mutations of valid replies either
		// parse, are incomplete, or throw RespProtocolException: never another
		// exception, never a read outside the given range.
		const string Mutations = "*$:+-\r\n-0123456789ab\0\xff";

		[Test]
		public void Parser_Fuzz_OnlyProtocolErrors ()
		{
			var rnd = new Random (7);
			var parser = new RespParser (1 << 16, 1 << 12);
			int parsed = 0, refused = 0;
			for (int i = 0; i < 50000; i++) {
				byte[] b;
				if (i % 2 == 0) {
					b = B (Valid [rnd.Next (Valid.Length)] + Valid [rnd.Next (Valid.Length)]);
					int flips = 1 + rnd.Next (3);
					for (int f = 0; f < flips; f++)
						b [rnd.Next (b.Length)] = (byte) Mutations [rnd.Next (Mutations.Length)];
				} else {
					b = new byte [rnd.Next (1, 24)];
					rnd.NextBytes (b);
					b [0] = (byte) "*$:+-" [rnd.Next (5)];
				}
				// Parse from an offset inside a larger buffer whose bytes around
				// it are poison: a read outside [off, off+len) would be seen.
				var big = new byte [b.Length + 16];
				for (int j = 0; j < big.Length; j++)
					big [j] = (byte) '*';
				Buffer.BlockCopy (b, 0, big, 8, b.Length);
				RespValue v;
				int used;
				try {
					if (parser.TryParse (big, 8, b.Length, out v, out used)) {
						parsed++;
						Assert.IsTrue (used > 0 && used <= b.Length);
						RespValue again;
						int used2;
						Assert.IsTrue (parser.TryParse (b, 0, used, out again, out used2), "the same bytes alone parse too");
						Assert.AreEqual (used, used2);
					}
				} catch (RespProtocolException) {
					refused++;
				}
			}
			Assert.Greater (parsed, 1000, "some mutations still parse");
			Assert.Greater (refused, 1000, "some are refused");
		}

		// ---- the client against a fake server on loopback ----

		sealed class FakeRedis : IDisposable
		{
			readonly TcpListener listener;
			public readonly int Port;
			public readonly List<Socket> Accepted = new List<Socket> ();

			public FakeRedis (Func<Socket, bool> serve)
			{
				listener = new TcpListener (IPAddress.Loopback, 0);
				listener.Start ();
				Port = ((IPEndPoint) listener.LocalEndpoint).Port;
				var t = new Thread (() => {
					try {
						while (true) {
							Socket s = listener.AcceptSocket ();
							lock (Accepted)
								Accepted.Add (s);
							var c = new Thread (() => { try { while (serve (s)) { } } catch (Exception) { } });
							c.IsBackground = true;
							c.Start ();
						}
					} catch (Exception) {
					}
				});
				t.IsBackground = true;
				t.Start ();
			}

			public void Dispose ()
			{
				listener.Stop ();
				lock (Accepted)
					foreach (Socket s in Accepted)
						s.Close ();
			}
		}

		static bool ReadCommand (Socket s)
		{
			var buf = new byte [4096];
			return s.Receive (buf) > 0;
		}

		static RedisSettings Settings (int port, int opMs = 300)
		{
			return new RedisSettings { Port = port, ConnectTimeoutMs = 500, OperationTimeoutMs = opMs, RetryIntervalMs = 0 };
		}

		[Test]
		public void Client_ReadsAReplySentInPieces ()
		{
			using (var fake = new FakeRedis (s => {
				if (!ReadCommand (s))
					return false;
				foreach (string piece in new [] { "*2\r\n$4\r\nab", "\r\n\r\n:", "7", "\r\n" }) {
					s.Send (B (piece));
					Thread.Sleep (20);
				}
				return true;
			})) {
				RespValue v = RedisPool.For (Settings (fake.Port)).Call (RespEncoder.Command ("X"));
				Assert.AreEqual ("ab\r\n", v.Items [0].AsString ());
				Assert.AreEqual (7, v.Items [1].Integer);
			}
		}

		[Test]
		public void Client_LargeReply_ThenSmallOnes_OnTheSameConnection ()
		{
			var big = new byte [3 * 1024 * 1024 + 5];
			new Random (3).NextBytes (big);
			int calls = 0;
			using (var fake = new FakeRedis (s => {
				if (!ReadCommand (s))
					return false;
				if (Interlocked.Increment (ref calls) == 1) {
					s.Send (B ("$" + big.Length + "\r\n"));
					s.Send (big);
					s.Send (B ("\r\n"));
				} else {
					s.Send (B (":5\r\n"));
				}
				return true;
			})) {
				RedisPool pool = RedisPool.For (Settings (fake.Port, 5000));
				CollectionAssert.AreEqual (big, pool.Call (RespEncoder.Command ("GET", "big")).Bytes);
				Assert.AreEqual (5, pool.Call (RespEncoder.Command ("X")).Integer);
				Assert.AreEqual (5, pool.Call (RespEncoder.Command ("X")).Integer);
				Assert.AreEqual (1, fake.Accepted.Count, "one connection throughout");
			}
		}

		[Test]
		public void Client_ServerThatNeverAnswers_FailsWithinTheOperationTimeout ()
		{
			// Collections all the while (Mono's GC stops threads, with signals
			// under the server's preemptive suspend): the bound holds anyway.
			bool done = false;
			var gc = new Thread (() => { while (!Volatile.Read (ref done)) { GC.Collect (); Thread.Sleep (20); } });
			gc.Start ();
			try {
				using (var fake = new FakeRedis (s => ReadCommand (s))) {
					var sw = Stopwatch.StartNew ();
					Assert.Throws<RedisUnavailableException> (() => RedisPool.For (Settings (fake.Port, 300)).Call (RespEncoder.Command ("GET", "k")));
					Assert.Less (sw.ElapsedMilliseconds, 2000, "bounded by operationTimeout");
					Assert.GreaterOrEqual (sw.ElapsedMilliseconds, 250, "waited for the operation timeout");
				}
			} finally {
				Volatile.Write (ref done, true);
				gc.Join ();
			}
		}

		// A reply trickling in, a byte every 100 ms: each read succeeds within any
		// per-read timeout, but the command as a whole is bounded.
		[Test]
		public void Client_TricklingReply_IsBoundedAsAWhole ()
		{
			using (var fake = new FakeRedis (s => {
				if (!ReadCommand (s))
					return false;
				foreach (byte b in B ("$100\r\n" + new string ('x', 100) + "\r\n")) {
					s.Send (new [] { b });
					Thread.Sleep (100);
				}
				return true;
			})) {
				var sw = Stopwatch.StartNew ();
				var e = Assert.Throws<RedisUnavailableException> (() => RedisPool.For (Settings (fake.Port, 500)).Call (RespEncoder.Command ("GET", "k")));
				StringAssert.Contains ("no answer within 500 ms", e.Message);
				Assert.Less (sw.ElapsedMilliseconds, 1500, "operationTimeout bounds the whole command");
			}
		}

		[Test]
		public void Client_GarbageFromTheServer_IsUnavailable_AndTheNextCallReconnects ()
		{
			int calls = 0;
			using (var fake = new FakeRedis (s => {
				if (!ReadCommand (s))
					return false;
				s.Send (B (Interlocked.Increment (ref calls) == 1 ? "HTTP/1.1 400 Bad\r\n\r\n" : "+PONG\r\n"));
				return true;
			})) {
				RedisPool pool = RedisPool.For (Settings (fake.Port));
				var e = Assert.Throws<RedisUnavailableException> (() => pool.Call (RespEncoder.Command ("PING")));
				Assert.IsInstanceOf<RespProtocolException> (e.InnerException);
				Assert.AreEqual ("PONG", pool.Call (RespEncoder.Command ("PING")).Text);
				Assert.AreEqual ("PONG", pool.Call (RespEncoder.Command ("PING")).Text);
				Assert.AreEqual (2, fake.Accepted.Count, "one new connection after the failure, then reused");
			}
		}

		[Test]
		public void Client_ServerGone_RefusedAtOnce_ThenBackWithoutRestart ()
		{
			int port;
			using (var fake = new FakeRedis (s => ReadCommand (s) && s.Send (B ("+PONG\r\n")) > 0))
				port = fake.Port;
			RedisPool pool = RedisPool.For (Settings (port));
			var sw = Stopwatch.StartNew ();
			Assert.Throws<RedisUnavailableException> (() => pool.Call (RespEncoder.Command ("PING")));
			Assert.Less (sw.ElapsedMilliseconds, 1000);
			// Same port again (a restarted Redis).
			var l = new TcpListener (IPAddress.Loopback, port);
			l.Start ();
			var t = new Thread (() => {
				using (Socket s = l.AcceptSocket ()) {
					ReadCommand (s);
					s.Send (B ("+PONG\r\n"));
					ReadCommand (s);
				}
			});
			t.Start ();
			Assert.AreEqual ("PONG", pool.Call (RespEncoder.Command ("PING")).Text);
			l.Stop ();
			t.Join (2000);
		}

		// ---- the stored session: ASP.NET's own serialization ----

		[Test]
		public void SessionData_RoundTrips ()
		{
			var items = new SessionStateItemCollection ();
			items ["n"] = 41;
			items ["s"] = "caf\u00e9\r\n";
			items ["list"] = new List<string> { "a", "b" };
			items ["null"] = null;
			byte[] data = RedisSessionStateStore.Serialize (new SessionStateStoreData (items, null, 17));
			SessionStateStoreData back = RedisSessionStateStore.Deserialize (null, data, 17);
			Assert.AreEqual (17, back.Timeout);
			Assert.AreEqual (41, back.Items ["n"]);
			Assert.AreEqual ("caf\u00e9\r\n", back.Items ["s"]);
			CollectionAssert.AreEqual (new [] { "a", "b" }, (List<string>) back.Items ["list"]);
			Assert.IsNull (back.Items ["null"]);
			Assert.AreEqual (4, back.Items.Count);
			Assert.IsNotNull (back.StaticObjects);
		}

		[Test]
		public void SessionData_EmptyOrMissing_IsAnEmptySession ()
		{
			Assert.AreEqual (0, RedisSessionStateStore.Deserialize (null, null, 20).Items.Count);
			Assert.AreEqual (0, RedisSessionStateStore.Deserialize (null, new byte [0], 20).Items.Count);
			byte[] none = RedisSessionStateStore.Serialize (null);
			Assert.AreEqual (0, RedisSessionStateStore.Deserialize (null, none, 20).Items.Count);
		}
	}
}
