// Shared pieces of the ScgiMono tests: a CGI variable block built from
// name/value pairs, a response sink that records what the worker request sent,
// a throw-away application directory, and a base fixture that builds worker
// requests over them (the request body in unmanaged memory, as the C host has it).
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	// "NAME\0value\0" pairs, UTF-8, in the order given (repeats allowed).
	public static class CgiBlock
	{
		public static byte[] Build (params string[] nameValues)
		{
			if (nameValues.Length % 2 != 0)
				throw new ArgumentException ("names and values must come in pairs");
			var ms = new MemoryStream ();
			for (int i = 0; i < nameValues.Length; i++) {
				byte[] b = Encoding.UTF8.GetBytes (nameValues [i]);
				ms.Write (b, 0, b.Length);
				ms.WriteByte (0);
			}
			return ms.ToArray ();
		}

		public static RequestVars Vars (params string[] nameValues)
		{
			return new RequestVars (Build (nameValues));
		}
	}

	// Everything the worker request hands to the C host, in order.
	public sealed class RecordingSink : IResponseSink
	{
		public sealed class HeadersCall
		{
			public int Status;
			public string Reason;
			public string Head;       // "Name: value\r\n"... built from Headers, for assertions
			public List<string> Headers; // name, value, ... as handed over
		}

		public readonly List<string> Events = new List<string> ();
		public readonly List<HeadersCall> Headers = new List<HeadersCall> ();
		public readonly List<bool> Flushes = new List<bool> ();
		public readonly MemoryStream Body = new MemoryStream ();
		public int BodyCalls;
		public int CloseCalls;
		public bool Connected = true;

		// No socket here: the worker request copies file slices through SendBody.
		public bool SendFile (IntPtr fd, long offset, long length)
		{
			return false;
		}

		public void SendHeaders (int status, string reason, IList<string> headers)
		{
			Events.Add ("SendHeaders");
			var head = new StringBuilder ();
			for (int i = 0; i + 1 < headers.Count; i += 2)
				head.Append (headers [i]).Append (": ").Append (headers [i + 1]).Append ("\r\n");
			Headers.Add (new HeadersCall { Status = status, Reason = reason, Head = head.ToString (),
			                               Headers = new List<string> (headers) });
		}

		public void SendBody (byte[] data, int offset, int length)
		{
			Events.Add ("SendBody");
			BodyCalls++;
			Body.Write (data, offset, length);
		}

		public unsafe void SendBody (byte* data, int length)
		{
			Events.Add ("SendBody");
			BodyCalls++;
			byte[] copy = new byte [length];
			Marshal.Copy (new IntPtr (data), copy, 0, length);
			Body.Write (copy, 0, length);
		}

		public void Flush (bool final)
		{
			Events.Add (final ? "Flush(final)" : "Flush");
			Flushes.Add (final);
		}

		public bool IsConnected {
			get { return Connected; }
		}

		public void CloseConnection ()
		{
			Events.Add ("CloseConnection");
			CloseCalls++;
		}

		public byte[] BodyBytes {
			get { return Body.ToArray (); }
		}

		public string BodyText {
			get { return Encoding.UTF8.GetString (Body.ToArray ()); }
		}
	}

	// An application directory under the system temp directory:
	//   Default.aspx, page.aspx, dir/Default.aspx, dir.v2/page.aspx, sub/ (empty)
	public sealed class TestApp : IDisposable
	{
		public readonly string Root;   // no trailing slash

		public TestApp ()
		{
			Root = Path.Combine (Path.GetTempPath (), "scgimono-test-" + Guid.NewGuid ().ToString ("N"));
			Directory.CreateDirectory (Root);
			Write ("Default.aspx", "<%@ Page Language=\"C#\" %>root default");
			Write ("page.aspx", "<%@ Page Language=\"C#\" %>page");
			Directory.CreateDirectory (Path.Combine (Root, "dir"));
			Write ("dir/Default.aspx", "<%@ Page Language=\"C#\" %>dir default");
			Directory.CreateDirectory (Path.Combine (Root, "dir.v2"));
			Write ("dir.v2/page.aspx", "<%@ Page Language=\"C#\" %>dotted dir page");
			Directory.CreateDirectory (Path.Combine (Root, "sub"));
		}

		public string Write (string relative, string text)
		{
			return Write (relative, Encoding.UTF8.GetBytes (text));
		}

		public string Write (string relative, byte[] data)
		{
			string p = Path.Combine (Root, relative);
			File.WriteAllBytes (p, data);
			return p;
		}

		public void Dispose ()
		{
			if (Directory.Exists (Root))
				Directory.Delete (Root, true);
		}
	}

	// What native/route.c hands the managed side for a request with these
	// variables, reduced to what these tests send (a REQUEST_URI with valid
	// escapes and no "//" or dot segments): the managed side derives none of it.
	// route.c's behaviour itself is tested in tests/test_route.c and
	// tests/test_urlpath.c; the integration tests check both together.
	public static class Routed
	{
		public static RequestTarget Target (RequestVars vars)
		{
			string raw = vars.Get ("REQUEST_URI") ?? "/";
			int q = raw.IndexOf ('?');
			string path = Uri.UnescapeDataString (q < 0 ? raw : raw.Substring (0, q));
			int qi = vars.IndexOf ("QUERY_STRING");
			byte[] query = qi >= 0 ? vars.RawValueAt (qi) : Encoding.UTF8.GetBytes (q < 0 ? "" : raw.Substring (q + 1));
			string host = vars.Get ("HTTP_HOST");
			if (string.IsNullOrEmpty (host))
				host = vars.Get ("SERVER_NAME");
			if (string.IsNullOrEmpty (host))
				host = vars.Get ("SERVER_ADDR") ?? "127.0.0.1";
			int end = host.StartsWith ("[") ? host.IndexOf (']') + 1 : host.LastIndexOf (':');
			return new RequestTarget (raw, path.Length == 0 ? "/" : path, query, end > 0 ? host.Substring (0, end) : host);
		}
	}

	// Base of the worker-request fixtures: a fresh application directory and sink
	// per test, unmanaged body memory freed after each test.
	public abstract class WorkerRequestFixture
	{
		protected TestApp App;
		protected RecordingSink Sink;
		readonly List<IntPtr> allocations = new List<IntPtr> ();

		[SetUp]
		public void CreateApp ()
		{
			App = new TestApp ();
			Sink = new RecordingSink ();
		}

		[TearDown]
		public void RemoveApp ()
		{
			foreach (IntPtr p in allocations)
				Marshal.FreeHGlobal (p);
			allocations.Clear ();
			if (App != null)
				App.Dispose ();
			App = null;
		}

		// The physical root as AppPaths reports it (with its trailing slash).
		protected string PhysRoot {
			get { return App.Root + "/"; }
		}

		protected AppPaths Paths (string virtualPath)
		{
			return new AppPaths (virtualPath, App.Root);
		}

		// A request for the application mounted at "/", no body.
		protected ScgiWorkerRequest Request (params string[] nameValues)
		{
			return RequestAt ("/", null, nameValues);
		}

		protected ScgiWorkerRequest RequestAt (string virtualPath, params string[] nameValues)
		{
			return RequestAt (virtualPath, null, nameValues);
		}

		// body is copied into memory from Marshal.AllocHGlobal, like the C host's buffer.
		protected ScgiWorkerRequest RequestAt (string virtualPath, byte[] body, params string[] nameValues)
		{
			IntPtr mem = IntPtr.Zero;
			int len = 0;
			if (body != null && body.Length > 0) {
				mem = Marshal.AllocHGlobal (body.Length);
				allocations.Add (mem);
				Marshal.Copy (body, 0, mem, body.Length);
				len = body.Length;
			}
			RequestVars vars = CgiBlock.Vars (nameValues);
			return new ScgiWorkerRequest (vars, Routed.Target (vars), Paths (virtualPath), Sink, mem, len);
		}

		protected ScgiWorkerRequest RequestWithBody (byte[] body, params string[] nameValues)
		{
			return RequestAt ("/", body, nameValues);
		}

		// A GET for url (path and query) with REQUEST_URI and QUERY_STRING as front ends send them.
		protected ScgiWorkerRequest Get (string url)
		{
			return GetAt ("/", url);
		}

		protected ScgiWorkerRequest GetAt (string virtualPath, string url)
		{
			int q = url.IndexOf ('?');
			return RequestAt (virtualPath, "REQUEST_METHOD", "GET", "REQUEST_URI", url,
			                  "QUERY_STRING", q < 0 ? "" : url.Substring (q + 1));
		}

		protected static byte[] Pattern (int length, int seed)
		{
			byte[] b = new byte [length];
			uint x = (uint) seed * 2654435761u + 1;
			for (int i = 0; i < length; i++) {
				x = x * 1103515245u + 12345u;
				b [i] = (byte) (x >> 16);
			}
			return b;
		}
	}
}
