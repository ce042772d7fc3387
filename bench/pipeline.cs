// pipeline: the pipeline limit of the benchmark.
//
// What Mono's ASP.NET costs with no server at all: HttpRuntime.ProcessRequest called
// in-process, inside the application's AppDomain, on an in-memory worker request
// (no sockets, no parsing, the output discarded but counted), on as many threads
// as cores, for a fixed time after a warm-up.
//
//   MONO_PATH=<dir of pipeline.exe> mono pipeline.exe --app DIR [--duration S] [--warmup S]
//       [--threads N] [--pages hello,page,big,upload] [--dump DIR]
//
// The host type lives in this assembly; ApplicationHost loads it in the new domain,
// which resolves it through MONO_PATH (nothing is copied into the application).
// Output, one line per page (parsed by bench/run.py):
//   result PAGE rps R requests N errors E p50_ms A p99_ms B bytes_per_request K async M cpu_us C
// (async: requests whose ProcessRequest returned before their EndOfRequest; cpu_us: CPU
// time of the whole process per request while measuring)
// --dump DIR: one request per page instead; writes DIR/PAGE.body and prints
//   dump PAGE status S
// and last "rss_kb N", the resident memory of the process after the run.
// Exit status 0 if every page answered 200, 1 otherwise, 2 for a bad command line.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Web;
using System.Web.Hosting;

namespace Bench
{
	// One page of the benchmark: its path, method and request body.
	[Serializable]
	public sealed class PageSpec
	{
		public string Name;
		public string Path;    // relative to the application, e.g. "hello.ashx"
		public string Method;
		public int BodySize;   // bytes of POST body, 0 for GET

		public static PageSpec Get (string name)
		{
			switch (name) {
			case "hello": return new PageSpec { Name = name, Path = "hello.ashx", Method = "GET" };
			case "page": return new PageSpec { Name = name, Path = "page.aspx", Method = "GET" };
			case "big": return new PageSpec { Name = name, Path = "big.ashx", Method = "GET" };
			case "upload": return new PageSpec { Name = name, Path = "upload.ashx", Method = "POST", BodySize = 1 << 20 };
			}
			return null;
		}
	}

	// An in-memory request: the body is preloaded whole, the response is counted
	// (and kept only when capture is set). Completion is signalled by EndOfRequest,
	// since HttpRuntime.ProcessRequest may return before the request is finished.
	public sealed class MemoryWorkerRequest : SimpleWorkerRequest
	{
		readonly string method;
		readonly byte [] body;
		readonly MemoryStream capture;
		readonly ManualResetEventSlim done;
		EndOfSendNotification endNotify;
		object endNotifyData;

		public int Status = 200;
		public long Bytes;

		public MemoryWorkerRequest (PageSpec page, byte [] body, ManualResetEventSlim done, bool capture)
			: base (page.Path, "", TextWriter.Null)
		{
			method = page.Method;
			this.body = body;
			this.done = done;
			if (capture)
				this.capture = new MemoryStream ();
		}

		public byte [] Captured { get { return capture == null ? null : capture.ToArray (); } }

		public override string GetHttpVerbName () { return method; }
		public override string GetHttpVersion () { return "HTTP/1.1"; }
		public override string GetRemoteAddress () { return "127.0.0.1"; }
		public override int GetRemotePort () { return 40000; }
		public override string GetLocalAddress () { return "127.0.0.1"; }
		public override int GetLocalPort () { return 80; }
		public override string GetServerName () { return "localhost"; }

		public override string GetKnownRequestHeader (int index)
		{
			switch (index) {
			case HeaderHost: return "localhost";
			case HeaderUserAgent: return "bench-pipeline";
			case HeaderContentLength: return body == null ? null : body.Length.ToString ();
			case HeaderContentType: return body == null ? null : "application/octet-stream";
			}
			return null;
		}

		public override byte [] GetPreloadedEntityBody () { return body; }
		public override int GetPreloadedEntityBodyLength () { return body == null ? 0 : body.Length; }
		public override bool IsEntireEntityBodyIsPreloaded () { return true; }
		public override int ReadEntityBody (byte [] buffer, int size) { return 0; }
		public override int ReadEntityBody (byte [] buffer, int offset, int size) { return 0; }

		public override void SendStatus (int statusCode, string statusDescription) { Status = statusCode; }
		public override void SendKnownResponseHeader (int index, string value) { }
		public override void SendUnknownResponseHeader (string name, string value) { }

		public override void SendResponseFromMemory (byte [] data, int length)
		{
			Bytes += length;
			if (capture != null)
				capture.Write (data, 0, length);
		}

		public override unsafe void SendResponseFromMemory (IntPtr data, int length)
		{
			Bytes += length;
			if (capture != null) {
				var tmp = new byte [length];
				System.Runtime.InteropServices.Marshal.Copy (data, tmp, 0, length);
				capture.Write (tmp, 0, length);
			}
		}

		public override void SendResponseFromFile (string filename, long offset, long length)
		{
			using (var fs = new FileStream (filename, FileMode.Open, FileAccess.Read))
				CopyFile (fs, offset, length);
		}

		public override void SendResponseFromFile (IntPtr handle, long offset, long length)
		{
			var sh = new Microsoft.Win32.SafeHandles.SafeFileHandle (handle, false);
			using (var fs = new FileStream (sh, FileAccess.Read))
				CopyFile (fs, offset, length);
		}

		void CopyFile (FileStream fs, long offset, long length)
		{
			if (length < 0)
				length = fs.Length - offset;
			fs.Seek (offset, SeekOrigin.Begin);
			var buf = new byte [64 * 1024];
			while (length > 0) {
				int n = fs.Read (buf, 0, (int) Math.Min (buf.Length, length));
				if (n <= 0)
					break;
				SendResponseFromMemory (buf, n);
				length -= n;
			}
		}

		public override void FlushResponse (bool finalFlush) { }

		public override void SetEndOfSendNotification (EndOfSendNotification callback, object extraData)
		{
			endNotify = callback;
			endNotifyData = extraData;
		}

		public override void EndOfRequest ()
		{
			EndOfSendNotification cb = endNotify;
			endNotify = null;
			if (cb != null)
				cb (this, endNotifyData);
			done.Set ();
		}
	}

	// Lives in the application's AppDomain; each method crosses once per page.
	public sealed class PipelineHost : MarshalByRefObject
	{
		public override object InitializeLifetimeService () { return null; }

		// The same work-around scgi-mono-server applies in every application domain
		// (managed/Host.cs): Mono 6.8 keeps each request's disposed timeout timer,
		// and with it the request, until its timer scheduler next wakes; a timer due
		// every second keeps it waking. Without it the pipeline limit would carry
		// gigabytes of dead requests and be slower than what a host can reach.
		static readonly Timer schedulerTick;

		// An explicit static constructor: it runs before the first instance is made.
		static PipelineHost ()
		{
			schedulerTick = new Timer (delegate { }, null, 1000, 1000);
		}

		public bool SchedulerTickRunning { get { return schedulerTick != null; } }

		// One request; returns its status and writes its body to path.
		public int Dump (PageSpec page, string path)
		{
			byte [] body = MakeBody (page);
			using (var done = new ManualResetEventSlim (false)) {
				var wr = new MemoryWorkerRequest (page, body, done, true);
				HttpRuntime.ProcessRequest (wr);
				if (!done.Wait (60000))
					return -1;
				File.WriteAllBytes (path, wr.Captured);
				return wr.Status;
			}
		}

		// Runs the page on `threads` threads: warmup seconds uncounted, then
		// duration seconds counted. Returns the result line.
		public string Measure (PageSpec page, int threads, double warmup, double duration)
		{
			byte [] body = MakeBody (page);
			RunFor (page, body, threads, warmup, null);
			var stats = new ThreadStats [threads];
			var proc = Process.GetCurrentProcess ();
			TimeSpan cpu0 = proc.TotalProcessorTime;
			var sw = Stopwatch.StartNew ();
			RunFor (page, body, threads, duration, stats);
			double secs = sw.Elapsed.TotalSeconds;
			proc.Refresh ();
			double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;

			long requests = 0, errors = 0, bytes = 0, async = 0;
			var lat = new List<long> ();
			foreach (var s in stats) {
				requests += s.Requests;
				errors += s.Errors;
				bytes += s.Bytes;
				async += s.Async;
				lat.AddRange (s.Latencies);
			}
			lat.Sort ();
			double tick_ms = 1000.0 / Stopwatch.Frequency;
			double p50 = lat.Count > 0 ? lat [(int) (lat.Count * 0.50)] * tick_ms : 0;
			double p99 = lat.Count > 0 ? lat [Math.Min (lat.Count - 1, (int) (lat.Count * 0.99))] * tick_ms : 0;
			return string.Format (System.Globalization.CultureInfo.InvariantCulture,
			                      "result {0} rps {1:F1} requests {2} errors {3} p50_ms {4:F3} p99_ms {5:F3} bytes_per_request {6} async {7} cpu_us {8:F1}",
			                      page.Name, requests / secs, requests, errors, p50, p99,
			                      requests > 0 ? bytes / requests : 0, async,
			                      requests > 0 ? cpu * 1e6 / requests : 0);
		}

		sealed class ThreadStats
		{
			public long Requests, Errors, Bytes;
			public long Async; // ProcessRequest returned before EndOfRequest
			public List<long> Latencies = new List<long> (1 << 16);
		}

		static void RunFor (PageSpec page, byte [] body, int threads, double seconds, ThreadStats [] stats)
		{
			long deadline = Stopwatch.GetTimestamp () + (long) (seconds * Stopwatch.Frequency);
			var ts = new Thread [threads];
			for (int i = 0; i < threads; i++) {
				int idx = i;
				ts [i] = new Thread (() => {
					ThreadStats st = stats != null ? (stats [idx] = new ThreadStats ()) : new ThreadStats ();
					using (var done = new ManualResetEventSlim (false)) {
						while (Stopwatch.GetTimestamp () < deadline) {
							done.Reset ();
							long t0 = Stopwatch.GetTimestamp ();
							var wr = new MemoryWorkerRequest (page, body, done, false);
							HttpRuntime.ProcessRequest (wr);
							if (!done.IsSet)
								st.Async++;
							if (!done.Wait (60000)) {
								st.Errors++;
								break; // a request that never ends: stop this thread
							}
							st.Latencies.Add (Stopwatch.GetTimestamp () - t0);
							if (wr.Status == 200 && wr.Bytes > 0) {
								st.Requests++;
								st.Bytes += wr.Bytes;
							} else {
								st.Errors++;
							}
						}
					}
				});
				ts [i].Start ();
			}
			foreach (var t in ts)
				t.Join ();
		}

		static byte [] MakeBody (PageSpec page)
		{
			if (page.BodySize == 0)
				return null;
			var b = new byte [page.BodySize];
			for (int i = 0; i < b.Length; i++)
				b [i] = (byte) ('a' + i % 26);
			return b;
		}
	}

	public static class Program
	{
		// VmRSS of this process (kB) from /proc, or -1.
		static long RssKb ()
		{
			try {
				foreach (string line in File.ReadAllLines ("/proc/self/status"))
					if (line.StartsWith ("VmRSS:"))
						return long.Parse (line.Substring (6).Trim ().Split (' ') [0]);
			} catch (Exception) {
			}
			return -1;
		}

		static int Usage (string why)
		{
			Console.Error.WriteLine ("pipeline: {0}", why);
			Console.Error.WriteLine ("usage: MONO_PATH=DIR mono pipeline.exe --app DIR [--duration S] [--warmup S] [--threads N] [--pages LIST] [--dump DIR]");
			return 2;
		}

		public static int Main (string [] args)
		{
			string app = null, dump = null;
			double duration = 5, warmup = 2;
			int threads = Environment.ProcessorCount;
			string pages = "hello,page,big,upload";
			var inv = System.Globalization.CultureInfo.InvariantCulture;
			try {
				for (int i = 0; i < args.Length; i++) {
					string a = args [i];
					string v = i + 1 < args.Length ? args [i + 1] : null;
					switch (a) {
					case "--app": app = v; i++; break;
					case "--dump": dump = v; i++; break;
					case "--duration": duration = double.Parse (v, inv); i++; break;
					case "--warmup": warmup = double.Parse (v, inv); i++; break;
					case "--threads": threads = int.Parse (v, inv); i++; break;
					case "--pages": pages = v; i++; break;
					default: return Usage ("unknown argument " + a);
					}
				}
			} catch (Exception e) {
				return Usage (e.Message);
			}
			if (app == null || !Directory.Exists (app))
				return Usage ("--app DIR is required and must exist");
			if (threads < 1 || duration <= 0 || warmup < 0)
				return Usage ("bad --threads, --duration or --warmup");
			var specs = new List<PageSpec> ();
			foreach (string name in pages.Split (',')) {
				PageSpec p = PageSpec.Get (name.Trim ());
				if (p == null)
					return Usage ("unknown page " + name);
				specs.Add (p);
			}

			PipelineHost host;
			try {
				host = (PipelineHost) ApplicationHost.CreateApplicationHost (
					typeof (PipelineHost), "/", Path.GetFullPath (app));
			} catch (Exception e) {
				Console.Error.WriteLine ("pipeline: cannot create the application domain " +
				                         "(is MONO_PATH set to the directory of pipeline.exe?): {0}", e);
				return 1;
			}
			Console.WriteLine ("threads {0}", threads);
			int rc = 0;
			foreach (PageSpec p in specs) {
				if (dump != null) {
					int status = host.Dump (p, Path.Combine (Path.GetFullPath (dump), p.Name + ".body"));
					Console.WriteLine ("dump {0} status {1}", p.Name, status);
					if (status != 200)
						rc = 1;
				} else {
					string line = host.Measure (p, threads, warmup, duration);
					Console.WriteLine (line);
					if (!line.Contains (" errors 0 "))
						rc = 1;
				}
				Console.Out.Flush ();
			}
			Console.WriteLine ("rss_kb {0}", RssKb ());
			return rc;
		}
	}
}
