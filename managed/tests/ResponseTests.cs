// The response side: what the worker request hands to its IResponseSink.
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Web;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class ResponseTests : WorkerRequestFixture
	{
		static byte[] Ascii (string s)
		{
			return Encoding.ASCII.GetBytes (s);
		}

		[Test]
		public void Response_OneSendHeadersWithStatusReasonLinesAndContentLength ()
		{
			var wr = Get ("/page.aspx");
			wr.SendStatus (404, "Not Found");
			wr.SendKnownResponseHeader (HttpWorkerRequest.HeaderContentType, "text/plain; charset=utf-8");
			wr.SendUnknownResponseHeader ("X-Powered-By", "scgi-mono");
			wr.SendKnownResponseHeader (HttpWorkerRequest.HeaderContentLength, "11");
			wr.SendResponseFromMemory (Ascii ("hello "), 6);
			wr.SendResponseFromMemory (Ascii ("world"), 5);

			Assert.AreEqual (1, Sink.Headers.Count);
			var h = Sink.Headers [0];
			Assert.AreEqual (404, h.Status);
			Assert.AreEqual ("Not Found", h.Reason);
			Assert.AreEqual ("Content-Type: text/plain; charset=utf-8\r\n" +
			                 "X-Powered-By: scgi-mono\r\n" +
			                 "Content-Length: 11\r\n", h.Head);
			Assert.AreEqual ("hello world", Sink.BodyText);
			CollectionAssert.AreEqual (new[] { "SendHeaders", "SendBody", "SendBody" }, Sink.Events);
			Assert.IsTrue (wr.HeadersSent ());
		}

		[Test]
		public void Response_NoHeaders_NoneHandedOver ()
		{
			var wr = Get ("/page.aspx");
			wr.SendStatus (200, "OK");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			Assert.AreEqual (0, Sink.Headers [0].Headers.Count);
			Assert.AreEqual ("", Sink.Headers [0].Head);
		}

		[Test]
		public void Response_DefaultStatus200 ()
		{
			var wr = Get ("/page.aspx");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			Assert.AreEqual (200, Sink.Headers [0].Status);
		}

		[Test]
		public void Response_CalculatedContentLength ()
		{
			var wr = Get ("/page.aspx");
			wr.SendCalculatedContentLength (1234);
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			Assert.AreEqual ("Content-Length: 1234\r\n", Sink.Headers [0].Head);
		}

		[Test]
		public void Response_CalculatedContentLength_NotAddedWhenAlreadySent ()
		{
			var wr = Get ("/page.aspx");
			wr.SendUnknownResponseHeader ("Content-Length", "5");
			wr.SendCalculatedContentLength (5);
			wr.SendResponseFromMemory (Ascii ("hello"), 5);
			Assert.AreEqual ("Content-Length: 5\r\n", Sink.Headers [0].Head);
		}

		[Test]
		public void Response_HeadersAfterBodyStarted_Ignored ()
		{
			var wr = Get ("/page.aspx");
			wr.SendUnknownResponseHeader ("X-A", "1");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			wr.SendUnknownResponseHeader ("X-B", "2");
			wr.SendResponseFromMemory (Ascii ("y"), 1);
			Assert.AreEqual (1, Sink.Headers.Count);
			Assert.AreEqual ("X-A: 1\r\n", Sink.Headers [0].Head);
		}

		[Test]
		public void Response_NamesValuesAndReasonHandedOverAsGiven ()
		{
			// The C host alone sanitizes (native/resp_head.c, tests/test_resp_head.c):
			// the managed side must not fold or drop anything on its own.
			var wr = Get ("/page.aspx");
			wr.SendStatus (200, "OK\r\nX-Injected: yes");
			wr.SendUnknownResponseHeader ("X-Evil", "a\r\nSet-Cookie: owned=1\0");
			wr.SendUnknownResponseHeader ("Bad Name:", "v");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			var h = Sink.Headers [0];
			Assert.AreEqual ("OK\r\nX-Injected: yes", h.Reason);
			CollectionAssert.AreEqual (new[] { "X-Evil", "a\r\nSet-Cookie: owned=1\0", "Bad Name:", "v" }, h.Headers);
		}

		[Test]
		public void Response_FromUnmanagedMemory ()
		{
			var wr = Get ("/page.aspx");
			byte[] data = Ascii ("from pointer");
			IntPtr p = Marshal.AllocHGlobal (data.Length);
			try {
				Marshal.Copy (data, 0, p, data.Length);
				wr.SendResponseFromMemory (p, data.Length);
			} finally {
				Marshal.FreeHGlobal (p);
			}
			Assert.AreEqual (1, Sink.Headers.Count);
			Assert.AreEqual ("from pointer", Sink.BodyText);
		}

		[Test]
		public void FinalFlush_FlushesFinalAndEnds ()
		{
			var wr = Get ("/page.aspx");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			Assert.IsFalse (wr.Ended);
			Assert.IsTrue (wr.IsClientConnected ());
			wr.FlushResponse (true);
			Assert.IsTrue (wr.Ended);
			CollectionAssert.AreEqual (new[] { "SendHeaders", "SendBody", "Flush(final)" }, Sink.Events);
		}

		[Test]
		public void FinalFlush_WithoutBody_StillSendsHeaders ()
		{
			var wr = Get ("/page.aspx");
			wr.SendStatus (204, "No Content");
			wr.FlushResponse (true);
			Assert.AreEqual (1, Sink.Headers.Count);
			Assert.AreEqual (204, Sink.Headers [0].Status);
			CollectionAssert.AreEqual (new[] { "SendHeaders", "Flush(final)" }, Sink.Events);
		}

		[Test]
		public void NonFinalFlush_DoesNotEnd ()
		{
			var wr = Get ("/page.aspx");
			wr.FlushResponse (false);
			Assert.IsFalse (wr.Ended);
			CollectionAssert.AreEqual (new[] { "SendHeaders", "Flush" }, Sink.Events);
		}

		[Test]
		public void AfterFinalFlush_CallsDoNothing ()
		{
			byte[] body = Pattern (100 * 1024, 9);
			var wr = RequestWithBody (body, "CONTENT_LENGTH", body.Length.ToString (), "REQUEST_METHOD", "POST",
			                          "REQUEST_URI", "/page.aspx");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			wr.FlushResponse (true);
			int events = Sink.Events.Count;

			wr.SendResponseFromMemory (Ascii ("more"), 4);
			wr.FlushResponse (false);
			wr.FlushResponse (true);
			wr.CloseConnection ();
			Assert.AreEqual (0, wr.ReadEntityBody (new byte [1024], 1024));
			Assert.IsFalse (wr.IsClientConnected ());
			Assert.IsNull (wr.GetPreloadedEntityBody ());

			Assert.AreEqual (events, Sink.Events.Count, string.Join (",", Sink.Events.ToArray ()));
			Assert.AreEqual ("x", Sink.BodyText);
		}

		[Test]
		public void IsClientConnected_FollowsSink ()
		{
			var wr = Get ("/page.aspx");
			Assert.IsTrue (wr.IsClientConnected ());
			Sink.Connected = false;
			Assert.IsFalse (wr.IsClientConnected ());
		}

		[Test]
		public void CloseConnection_BeforeEnd_ReachesSink ()
		{
			var wr = Get ("/page.aspx");
			wr.CloseConnection ();
			Assert.AreEqual (1, Sink.CloseCalls);
		}

		[Test]
		public void EndOfRequest_FlushesFinalOnceAndNotifies ()
		{
			var wr = Get ("/page.aspx");
			object seen = null;
			int calls = 0;
			wr.SetEndOfSendNotification ((w, data) => { calls++; seen = data; }, "cookie");
			wr.SendResponseFromMemory (Ascii ("x"), 1);
			wr.EndOfRequest ();
			Assert.IsTrue (wr.Ended);
			Assert.AreEqual (1, calls);
			Assert.AreEqual ("cookie", seen);
			CollectionAssert.AreEqual (new[] { "SendHeaders", "SendBody", "Flush(final)" }, Sink.Events);
			wr.WaitForEnd (); // returns at once
		}

		[Test]
		public void EndOfRequest_AfterFinalFlush_NoSecondFlush ()
		{
			var wr = Get ("/page.aspx");
			wr.FlushResponse (true);
			wr.EndOfRequest ();
			Assert.AreEqual (1, Sink.Flushes.Count);
		}
	}

	[TestFixture]
	public class SendFileTests : WorkerRequestFixture
	{
		[Test]
		public void SendResponseFromFile_SendsExactlyTheSlice ()
		{
			byte[] data = Pattern (200 * 1024, 10);
			string path = App.Write ("blob.bin", data);
			var wr = Get ("/blob.bin");
			wr.SendResponseFromFile (path, 1000, 150000);
			byte[] expected = new byte [150000];
			Array.Copy (data, 1000, expected, 0, expected.Length);
			CollectionAssert.AreEqual (expected, Sink.BodyBytes);
			Assert.AreEqual (1, Sink.Headers.Count);
		}

		[Test]
		public void SendResponseFromFile_SmallSliceInMiddle ()
		{
			string path = App.Write ("text.txt", "0123456789abcdef");
			var wr = Get ("/text.txt");
			wr.SendResponseFromFile (path, 3, 5);
			Assert.AreEqual ("34567", Sink.BodyText);
		}

		[Test]
		public void SendResponseFromFile_NegativeLength_SendsRest ()
		{
			string path = App.Write ("text.txt", "0123456789abcdef");
			var wr = Get ("/text.txt");
			wr.SendResponseFromFile (path, 10, -1);
			Assert.AreEqual ("abcdef", Sink.BodyText);
		}

		[Test]
		public void SendResponseFromFile_ZeroLength_SendsNothing ()
		{
			string path = App.Write ("text.txt", "0123456789abcdef");
			var wr = Get ("/text.txt");
			wr.SendResponseFromFile (path, 4, 0);
			Assert.AreEqual (0, Sink.Body.Length);
		}

		[Test]
		public void SendResponseFromFile_AfterEnd_SendsNothing ()
		{
			string path = App.Write ("text.txt", "0123456789abcdef");
			var wr = Get ("/text.txt");
			wr.FlushResponse (true);
			wr.SendResponseFromFile (path, 0, 16);
			Assert.AreEqual (0, Sink.Body.Length);
		}
	}

	[TestFixture]
	public class SlashRedirectTests : WorkerRequestFixture
	{
		static string HeaderValue (string head, string name)
		{
			foreach (string line in head.Split (new[] { "\r\n" }, StringSplitOptions.RemoveEmptyEntries))
				if (line.StartsWith (name + ": ", StringComparison.OrdinalIgnoreCase))
					return line.Substring (name.Length + 2);
			return null;
		}

		[Test]
		public void NeedsSlashRedirect_DirectoryWithoutSlash_True ()
		{
			Assert.IsTrue (Get ("/dir").NeedsSlashRedirect);
		}

		[Test]
		public void NeedsSlashRedirect_DirectoryWithSlash_False ()
		{
			Assert.IsFalse (Get ("/dir/").NeedsSlashRedirect);
		}

		[Test]
		public void NeedsSlashRedirect_PageOrMissing_False ()
		{
			Assert.IsFalse (Get ("/page.aspx").NeedsSlashRedirect);
			Assert.IsFalse (Get ("/page.aspx/extra").NeedsSlashRedirect);
			Assert.IsFalse (Get ("/nothing-here").NeedsSlashRedirect);
		}

		[Test]
		public void NeedsSlashRedirect_DottedDirectory_True ()
		{
			Assert.IsTrue (Get ("/dir.v2").NeedsSlashRedirect);
		}

		// "/%2e%2e" decodes to "/..": MapPath makes it "<root>/..", the existing
		// parent directory, so any directory on the machine can be probed.
		[Test]
		public void NeedsSlashRedirect_AppMountWithoutSlash_True ()
		{
			Assert.IsTrue (GetAt ("/app", "/app").NeedsSlashRedirect);
			Assert.IsFalse (GetAt ("/app", "/app/").NeedsSlashRedirect);
		}

		[Test]
		public void SlashRedirect_301WithLocationFromHttpHost_KeepsQuery ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir?a=1&b=%20", "QUERY_STRING", "a=1&b=%20",
			                  "HTTP_HOST", "host.example:8080", "SERVER_NAME", "ignored", "SERVER_PORT", "80");
			Assert.IsTrue (wr.NeedsSlashRedirect);
			wr.SendSlashRedirect ();
			Assert.AreEqual (1, Sink.Headers.Count);
			var h = Sink.Headers [0];
			Assert.AreEqual (301, h.Status);
			Assert.AreEqual ("Moved Permanently", h.Reason);
			Assert.AreEqual ("http://host.example:8080/dir/?a=1&b=%20", HeaderValue (h.Head, "Location"));
			StringAssert.StartsWith ("text/html", HeaderValue (h.Head, "Content-Type"));
			StringAssert.Contains ("here", Sink.BodyText);
			Assert.IsTrue (wr.Ended);
			CollectionAssert.AreEqual (new[] { true }, Sink.Flushes);
		}

		[Test]
		public void SlashRedirect_NoQuery ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "HTTP_HOST", "host.example:8080");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://host.example:8080/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_Https ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "HTTP_HOST", "secure.example",
			                  "HTTPS", "on");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("https://secure.example/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		// Debian's nginx scgi_params send HTTP_HOST as $host (no port).
		[Test]
		public void SlashRedirect_HttpHostWithoutPort_PortFromServerPort ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir?a=1", "HTTP_HOST", "host.example",
			                  "SERVER_PORT", "8080");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://host.example:8080/dir/?a=1", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_HttpHostWithoutPort_DefaultPortOmitted ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "HTTP_HOST", "secure.example",
			                  "SERVER_PORT", "443", "HTTPS", "on");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("https://secure.example/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_IPv6Host ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "HTTP_HOST", "[::1]:8080",
			                  "SERVER_PORT", "8080");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://[::1]:8080/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_IPv6HostWithoutPort_PortFromServerPort ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "HTTP_HOST", "[::1]",
			                  "SERVER_PORT", "8080");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://[::1]:8080/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_NoHttpHost_ServerNameAndPort ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "SERVER_NAME", "srv.example",
			                  "SERVER_PORT", "8081");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://srv.example:8081/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_NoHttpHost_DefaultPortOmitted ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/dir", "SERVER_NAME", "srv.example",
			                  "SERVER_PORT", "80");
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://srv.example/dir/", HeaderValue (Sink.Headers [0].Head, "Location"));
		}

		[Test]
		public void SlashRedirect_AppMount ()
		{
			var wr = RequestAt ("/app", "REQUEST_METHOD", "GET", "REQUEST_URI", "/app?x=1", "HTTP_HOST", "h:81");
			Assert.IsTrue (wr.NeedsSlashRedirect);
			wr.SendSlashRedirect ();
			Assert.AreEqual ("http://h:81/app/?x=1", HeaderValue (Sink.Headers [0].Head, "Location"));
		}
	}
}
