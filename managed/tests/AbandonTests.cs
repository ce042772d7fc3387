// A request that ASP.NET will never run (its AppDomain is unloading) is abandoned
// by the host instead of waited for; one ASP.NET began is never abandoned, and an
// abandoned one is never written to or read from afterwards.
using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class AbandonTests : WorkerRequestFixture
	{
		[Test]
		public void NotUnloading_WaitsForTheEnd ()
		{
			var wr = Request ("REQUEST_URI", "/a.ashx");
			var t = new Thread (() => { Thread.Sleep (150); wr.EndOfRequest (); });
			t.Start ();
			Assert.IsTrue (wr.WaitForEndOrAbandon (() => false, 10), "ended, not abandoned");
			t.Join ();
			Assert.IsTrue (wr.Ended);
			Assert.IsFalse (wr.Abandoned);
		}

		[Test]
		public void Unloading_NeverBegun_IsAbandonedAtOnce_AndLaterCallsDoNothing ()
		{
			var wr = RequestWithBody (Encoding.ASCII.GetBytes ("body"), "REQUEST_URI", "/a.ashx", "CONTENT_LENGTH", "4");
			var sw = Stopwatch.StartNew ();
			Assert.IsFalse (wr.WaitForEndOrAbandon (() => true, 10000), "abandoned");
			Assert.Less (sw.ElapsedMilliseconds, 1000, "without waiting a poll");
			Assert.IsTrue (wr.Abandoned);
			// ASP.NET running it late (a queued request) reaches nothing of the host's.
			wr.GetHttpVersion ();
			Assert.IsNull (wr.GetPreloadedEntityBody ());
			Assert.AreEqual (0, wr.ReadEntityBody (new byte [4], 4));
			wr.SendStatus (200, "OK");
			wr.SendResponseFromMemory (Encoding.ASCII.GetBytes ("late"), 4);
			wr.FlushResponse (true);
			wr.CloseConnection ();
			wr.EndOfRequest ();
			Assert.IsFalse (wr.IsClientConnected ());
			Assert.AreEqual (0, Sink.Events.Count, "nothing reached the sink: " + string.Join (",", Sink.Events));
		}

		[Test]
		public void UnloadBeginsWhileWaiting_TheWaitEndsWithinAPoll ()
		{
			var wr = Request ("REQUEST_URI", "/a.ashx");
			int unloading = 0;
			var t = new Thread (() => { Thread.Sleep (100); Volatile.Write (ref unloading, 1); });
			t.Start ();
			var sw = Stopwatch.StartNew ();
			Assert.IsFalse (wr.WaitForEndOrAbandon (() => Volatile.Read (ref unloading) == 1, 50));
			t.Join ();
			Assert.Less (sw.ElapsedMilliseconds, 2000);
		}

		[Test]
		public void Unloading_BegunByAspNet_IsWaitedFor ()
		{
			var wr = Request ("REQUEST_URI", "/a.ashx");
			wr.GetHttpVersion (); // HttpContext's constructor: ASP.NET runs the request
			var t = new Thread (() => {
				Thread.Sleep (200);
				wr.SendResponseFromMemory (Encoding.ASCII.GetBytes ("done"), 4);
				wr.EndOfRequest ();
			});
			t.Start ();
			Assert.IsTrue (wr.WaitForEndOrAbandon (() => true, 10), "a request ASP.NET runs is never abandoned");
			t.Join ();
			Assert.IsFalse (wr.TryAbandon ());
			Assert.AreEqual ("done", Encoding.ASCII.GetString (Sink.Body.ToArray ()));
		}

		[Test]
		public void ClaimAndAbandonRace_ExactlyOneWins ()
		{
			for (int i = 0; i < 200; i++) {
				var wr = Request ("REQUEST_URI", "/a.ashx");
				bool abandoned = false;
				var go = new ManualResetEventSlim ();
				var t = new Thread (() => { go.Wait (); abandoned = wr.TryAbandon (); });
				t.Start ();
				go.Set ();
				wr.SendResponseFromMemory (Encoding.ASCII.GetBytes ("x"), 1);
				t.Join ();
				Assert.AreEqual (abandoned, Sink.Body.Length == 0, "abandoned exactly when nothing was sent");
				Sink.Body.SetLength (0);
			}
		}
	}
}
