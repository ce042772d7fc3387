// ScgiWorkerRequest: what System.Web sees of one request that arrived over SCGI
// (or plain HTTP, which the C host turns into the same CGI variables).
//
// Request side: the URL, its path, the query and the server name as the C host
// decided them (RequestTarget: decoded, routed and judged once, in C), the other
// CGI variables (RequestVars) and the body, which stays in C memory and is copied
// out only when the application reads it. Response side: status and headers are
// collected here as given and handed to the sink once, with the body, through
// internal calls; the C host sanitizes and frames them (native/resp_head.h holds
// the rules).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Web;

namespace ScgiMono
{
	// How SendResponseFromFile may hand a whole file to the SCGI front end
	// instead of sending its bytes (scgi-mono.conf, per application).
	public enum FrontEndSendfile { Off = 0, XSendfile = 1, XAccelRedirect = 2 }

	public sealed class ScgiWorkerRequest : HttpWorkerRequest
	{
		// Bodies up to this size are handed to ASP.NET preloaded; larger ones are
		// read through ReadEntityBody in the sizes ASP.NET asks for.
		const int PreloadLimit = 64 * 1024;

		static readonly string[] KnownHeaderVars = BuildKnownHeaderVars ();

		readonly RequestVars vars;
		readonly RequestTarget target;
		readonly AppPaths paths;
		readonly IResponseSink sink;
		readonly IntPtr body;      // C memory, valid until the response ends
		readonly int bodyLength;
		readonly IBodySource bodySource; // instead of body, for bodies too large to hold

		readonly string method;
		readonly string rawUrl;
		readonly string queryString;
		readonly string uriPath;
		readonly string filePath;
		readonly string pathInfo;

		int bodyRead;              // bytes handed to ASP.NET so far
		int status = 200;
		string statusReason;
		List<string> headers = new List<string> (16); // name, value, name, value... as given
		bool contentLengthSent;    // a Content-Length header was given (C judges its value)
		bool headersSent;
		volatile bool ended;       // the final flush or EndOfRequest happened
		EndOfSendNotification endNotify;
		object endNotifyData;

		public ScgiWorkerRequest (RequestVars vars, RequestTarget target, AppPaths paths, IResponseSink sink,
		                          IntPtr body, int bodyLength, IBodySource bodySource = null)
		{
			this.vars = vars;
			this.target = target;
			this.paths = paths;
			this.sink = sink;
			this.body = body;
			this.bodyLength = bodyLength;
			this.bodySource = bodySource;

			method = vars.Get ("REQUEST_METHOD") ?? "GET";
			rawUrl = target.RawUrl;
			queryString = target.QueryString;
			uriPath = target.Path;
			paths.Split (uriPath, out filePath, out pathInfo);
		}

		static string[] BuildKnownHeaderVars ()
		{
			var r = new string [RequestHeaderMaximum];
			for (int i = 0; i < RequestHeaderMaximum; i++)
				r [i] = CgiName (GetKnownRequestHeaderName (i));
			return r;
		}

		static string CgiName (string header)
		{
			string up = header.ToUpperInvariant ().Replace ('-', '_');
			if (up == "CONTENT_TYPE" || up == "CONTENT_LENGTH")
				return up;
			return "HTTP_" + up;
		}

		// "HTTP_X_FORWARDED_FOR" -> "X-Forwarded-For"
		static string HeaderName (string cgi)
		{
			var sb = new StringBuilder (cgi.Length - 5);
			bool upper = true;
			for (int i = 5; i < cgi.Length; i++) {
				char c = cgi [i];
				if (c == '_') {
					sb.Append ('-');
					upper = true;
				} else {
					sb.Append (upper ? c : char.ToLowerInvariant (c));
					upper = false;
				}
			}
			return sb.ToString ();
		}

		public bool Ended {
			get { return ended; }
		}

		// True when the URL names a directory without its trailing slash; the
		// caller then answers with a redirect instead of running ASP.NET.
		public bool NeedsSlashRedirect {
			get { return filePath == uriPath && pathInfo.Length == 0 && paths.IsDirectoryWithoutSlash (uriPath); }
		}

		public void SendSlashRedirect ()
		{
			string location = GetProtocol () + "://" + HostForUrl () + rawUrlPathWithSlash ();
			SendSimple (301, "Moved Permanently", "text/html", "Location", location,
			            "<html><body>Moved to <a href=\"" + HttpUtility.HtmlAttributeEncode (location) +
			            "\">here</a>.</body></html>\n");
		}

		public void SendNotFound ()
		{
			SendSimple (404, "Not Found", "text/plain", null, null, "Not Found\n");
		}

		void SendSimple (int code, string reason, string type, string header, string value, string text)
		{
			SendStatus (code, reason);
			if (header != null)
				SendUnknownResponseHeader (header, value);
			SendUnknownResponseHeader ("Content-Type", type);
			byte[] b = Encoding.UTF8.GetBytes (text);
			SendResponseFromMemory (b, b.Length);
			FlushResponse (true);
		}

		string rawUrlPathWithSlash ()
		{
			int q = rawUrl.IndexOf ('?');
			return q < 0 ? rawUrl + "/" : rawUrl.Substring (0, q) + "/" + rawUrl.Substring (q);
		}

		// host[:port] as the client addressed the front end. Debian's nginx
		// scgi_params sends HTTP_HOST without the port ($host), so the port comes
		// from SERVER_PORT when the Host value has none.
		string HostForUrl ()
		{
			string name = GetServerName ();
			string host = vars.Get ("HTTP_HOST");
			if (!string.IsNullOrEmpty (host) && host != name) // the server name is the Host without its port
				return host;
			int port = GetLocalPort ();
			bool dflt = port == 0 || (port == 80 && !IsSecure ()) || (port == 443 && IsSecure ());
			return dflt ? name : name + ":" + port.ToString (CultureInfo.InvariantCulture);
		}

		// ---- request line and paths ----

		public override string GetHttpVerbName () { return method; }
		// ASP.NET's HttpResponse asks for it first thing in HttpContext's constructor:
		// from here on the request is ASP.NET's (Claim), it is never abandoned.
		public override string GetHttpVersion ()
		{
			Claim ();
			return vars.Get ("SERVER_PROTOCOL") ?? "HTTP/1.1";
		}
		public override string GetRawUrl () { return rawUrl; }
		public override string GetUriPath () { return filePath + pathInfo; }
		public override string GetFilePath () { return filePath; }
		public override string GetPathInfo () { return pathInfo; }
		public override string GetQueryString () { return queryString; }

		public override byte[] GetQueryStringRawBytes () { return target.QueryStringRawBytes; }

		public override string GetAppPath () { return paths.VirtualPath; }
		public override string GetAppPathTranslated () { return paths.PhysicalPath; }
		public override string GetFilePathTranslated () { return MapPath (filePath); }

		public override string MapPath (string virtualPath)
		{
			return paths.MapPath (virtualPath);
		}

		// ---- connection ----

		public override string GetLocalAddress () { return vars.Get ("SERVER_ADDR") ?? "127.0.0.1"; }
		public override int GetLocalPort () { return ParseInt (vars.Get ("SERVER_PORT")); }
		public override string GetRemoteAddress () { return vars.Get ("REMOTE_ADDR") ?? "127.0.0.1"; }
		public override int GetRemotePort () { return ParseInt (vars.Get ("REMOTE_PORT")); }
		public override string GetRemoteName () { return vars.Get ("REMOTE_HOST") ?? GetRemoteAddress (); }

		public override string GetServerName () { return target.ServerName; }

		public override bool IsSecure ()
		{
			string https = vars.Get ("HTTPS");
			if (https != null && (https.Equals ("on", StringComparison.OrdinalIgnoreCase) || https == "1" ||
			                      https.Equals ("true", StringComparison.OrdinalIgnoreCase)))
				return true;
			if (vars.Get ("SERVER_PORT_SECURE") == "1")
				return true;
			string scheme = vars.Get ("REQUEST_SCHEME");
			return scheme != null && scheme.Equals ("https", StringComparison.OrdinalIgnoreCase);
		}

		public override string GetProtocol () { return IsSecure () ? "https" : "http"; }

		static int ParseInt (string s)
		{
			int v;
			return s != null && int.TryParse (s, NumberStyles.None, CultureInfo.InvariantCulture, out v) ? v : 0;
		}

		// ---- request headers and variables ----

		public override string GetKnownRequestHeader (int index)
		{
			if (index < 0 || index >= RequestHeaderMaximum)
				return null;
			return vars.Get (KnownHeaderVars [index]);
		}

		public override string GetUnknownRequestHeader (string name)
		{
			return vars.Get (CgiName (name));
		}

		public override string[][] GetUnknownRequestHeaders ()
		{
			var list = new List<string[]> ();
			var seen = new HashSet<string> (StringComparer.Ordinal);
			for (int i = 0; i < vars.Count; i++) {
				string n = vars.NameAt (i);
				if (!n.StartsWith ("HTTP_", StringComparison.Ordinal) || !seen.Add (n))
					continue;
				// nginx passes Content-Type/-Length both as CGI variables and as HTTP_*.
				if (n == "HTTP_CONTENT_TYPE" || n == "HTTP_CONTENT_LENGTH")
					continue;
				if (Array.IndexOf (KnownHeaderVars, n) >= 0)
					continue;
				list.Add (new string[] { HeaderName (n), vars.Get (n) });
			}
			return list.ToArray ();
		}

		// Every variable the front end sent, plus GATEWAY_INTERFACE: reporting CGI
		// keeps Mono's HttpResponse from chunk-encoding by itself (the C host frames).
		public override string GetServerVariable (string name)
		{
			string v = vars.Get (name);
			if (v != null)
				return v;
			switch (name) {
			case "GATEWAY_INTERFACE": return "CGI/1.1";
			case "SERVER_SOFTWARE": return "scgi-mono";
			case "HTTPS": return IsSecure () ? "on" : "off";
			}
			return null;
		}

		// ---- request body ----

		bool Preloaded {
			get { return bodyLength == 0 || (bodySource == null && bodyLength <= PreloadLimit); }
		}

		public override int GetTotalEntityBodyLength () { return bodyLength; }
		public override int GetPreloadedEntityBodyLength () { return Preloaded ? bodyLength : 0; }
		public override bool IsEntireEntityBodyIsPreloaded () { return Preloaded; }

		public override byte[] GetPreloadedEntityBody ()
		{
			if (!Claim () || bodyLength == 0 || !Preloaded || ended)
				return null;
			byte[] b = new byte [bodyLength];
			Marshal.Copy (body, b, 0, bodyLength);
			bodyRead = bodyLength;
			return b;
		}

		public override int ReadEntityBody (byte[] buffer, int size)
		{
			return ReadEntityBody (buffer, 0, size);
		}

		public override int ReadEntityBody (byte[] buffer, int offset, int size)
		{
			if (!Claim () || ended || buffer == null)
				return 0;
			if (offset < 0 || size < 0 || offset > buffer.Length - size)
				throw new ArgumentOutOfRangeException ("offset");
			int n = Math.Min (size, bodyLength - bodyRead);
			if (n <= 0)
				return 0;
			if (bodySource != null) {
				unsafe {
					fixed (byte* p = buffer)
						n = bodySource.Read (p + offset, n);
				}
				// A body that stops early must not look complete to the application.
				if (n <= 0)
					throw new HttpException (400, "The request body ended before its announced length " +
					                         "(the client stopped sending or went away).");
			} else {
				Marshal.Copy (new IntPtr (body.ToInt64 () + bodyRead), buffer, offset, n);
			}
			bodyRead += n;
			return n;
		}

		// ---- response ----

		public override void SendStatus (int statusCode, string statusDescription)
		{
			status = statusCode;
			statusReason = statusDescription;
		}

		public override void SendKnownResponseHeader (int index, string value)
		{
			SendUnknownResponseHeader (GetKnownResponseHeaderName (index), value);
		}

		public override void SendUnknownResponseHeader (string name, string value)
		{
			if (headersSent)
				return;
			if (string.Equals (name, "Content-Length", StringComparison.OrdinalIgnoreCase))
				contentLengthSent = true;
			// Passed as given: the C host (native/resp_head.c) decides what of a
			// name or value may reach the wire (no CR, LF, NUL; framing headers are its own).
			headers.Add (name ?? "");
			headers.Add (value ?? "");
		}

		public override void SendCalculatedContentLength (int contentLength)
		{
			SendCalculatedContentLength ((long) contentLength);
		}

		public override void SendCalculatedContentLength (long contentLength)
		{
			if (!headersSent && !contentLengthSent)
				SendKnownResponseHeader (HeaderContentLength, contentLength.ToString (CultureInfo.InvariantCulture));
		}

		public override bool HeadersSent () { return headersSent; }

		void EnsureHeaders ()
		{
			if (headersSent)
				return;
			headersSent = true;
			sink.SendHeaders (status, statusReason, headers);
			headers = null;
		}

		public override void SendResponseFromMemory (byte[] data, int length)
		{
			if (!Claim () || ended || data == null || handedOff)
				return;
			EnsureHeaders ();
			bodyStarted |= length > 0;
			sink.SendBody (data, 0, Math.Min (length, data.Length));
		}

		public override unsafe void SendResponseFromMemory (IntPtr data, int length)
		{
			if (!Claim () || ended || data == IntPtr.Zero || handedOff)
				return;
			EnsureHeaders ();
			bodyStarted |= length > 0;
			sink.SendBody ((byte*) data.ToPointer (), length);
		}

		FrontEndSendfile frontEndSendfile;
		string accelPrefix;
		bool bodyStarted;       // body bytes were handed to the sink
		bool handedOff;         // the front end sends the body (X-Sendfile, X-Accel-Redirect)

		public void SetFrontEndSendfile (FrontEndSendfile mode, string prefix)
		{
			frontEndSendfile = mode;
			accelPrefix = prefix ?? "";
		}

		// The whole of a file, before any body and before the headers went out,
		// can go to the front end by name: it then sends the file itself. Paths
		// that are not plain ASCII are sent by the server (header values are not
		// a safe place for them).
		bool HandOff (string filename, long offset, long length)
		{
			if (frontEndSendfile == FrontEndSendfile.Off || headersSent || bodyStarted || handedOff || offset != 0)
				return false;
			string full;
			try {
				full = Path.GetFullPath (filename);
				var fi = new FileInfo (full);
				if (!fi.Exists || (length >= 0 && length != fi.Length))
					return false;
			} catch (Exception) {
				return false;
			}
			foreach (char ch in full)
				if (ch < 0x21 || ch > 0x7e)
					return false;
			if (frontEndSendfile == FrontEndSendfile.XSendfile)
				SendUnknownResponseHeader ("X-Sendfile", full);
			else
				SendUnknownResponseHeader ("X-Accel-Redirect", accelPrefix + full);
			handedOff = true;
			return true;
		}

		public override void SendResponseFromFile (string filename, long offset, long length)
		{
			if (!Claim () || ended || HandOff (filename, offset, length))
				return;
			using (var fs = new FileStream (filename, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1))
				SendFromStream (fs, offset, length);
		}

		public override void SendResponseFromFile (IntPtr handle, long offset, long length)
		{
			if (!Claim () || ended || handedOff)
				return;
			var sh = new Microsoft.Win32.SafeHandles.SafeFileHandle (handle, false);
			using (var fs = new FileStream (sh, FileAccess.Read, 1))
				SendFromStream (fs, offset, length);
		}

		void SendFromStream (FileStream fs, long offset, long length)
		{
			if (ended || handedOff)
				return;
			bodyStarted = true;
			if (length < 0)
				length = fs.Length - offset;
			EnsureHeaders ();
			if (sink.SendFile (fs.SafeFileHandle.DangerousGetHandle (), offset, length))
				return;
			fs.Seek (offset, SeekOrigin.Begin);
			byte[] buf = new byte [(int) Math.Min (length, 64 * 1024)];
			while (length > 0) {
				int n = fs.Read (buf, 0, (int) Math.Min (buf.Length, length));
				if (n <= 0)
					break;
				sink.SendBody (buf, 0, n);
				length -= n;
			}
		}

		public override void FlushResponse (bool finalFlush)
		{
			if (!Claim () || ended)
				return;
			EnsureHeaders ();
			sink.Flush (finalFlush);
			if (finalFlush)
				MarkEnded ();
		}

		public override void EndOfRequest ()
		{
			if (!Claim ())
				return; // abandoned: the host answers this request elsewhere
			if (!ended) {
				EnsureHeaders ();
				sink.Flush (true);
			}
			MarkEnded ();
			EndOfSendNotification cb = endNotify;
			endNotify = null;
			if (cb != null)
				cb (this, endNotifyData);
		}

		public override void SetEndOfSendNotification (EndOfSendNotification callback, object extraData)
		{
			endNotify = callback;
			endNotifyData = extraData;
		}

		public override void CloseConnection ()
		{
			if (Claim () && !ended)
				sink.CloseConnection ();
		}

		public override bool IsClientConnected ()
		{
			return Claim () && !ended && sink.IsConnected;
		}

		void MarkEnded ()
		{
			lock (this) {
				ended = true;
				Monitor.PulseAll (this);
			}
		}

		// Blocks until the response is complete (ASP.NET may finish a request on
		// another thread, e.g. an async page); the C side frees the connection after.
		public void WaitForEnd ()
		{
			lock (this) {
				while (!ended)
					Monitor.Wait (this);
			}
		}

		// As WaitForEnd, but gives up on a request that ASP.NET will never run:
		// every pollMs, while the request is not ended, domainUnloading() is asked;
		// once it is true and ASP.NET has not begun the request (Claim), the
		// request is abandoned (every later call from ASP.NET on it does nothing)
		// and false is returned: the caller may run it again elsewhere. Mono 6.8's
		// HttpRuntime drops a request without ending it while its domain unloads
		// (RealProcessRequest returns at once; the queue manager drops it while
		// disposing), so an unbounded wait would hang this thread for good.
		public bool WaitForEndOrAbandon (Func<bool> domainUnloading, int pollMs)
		{
			lock (this) {
				while (!ended) {
					if (domainUnloading () && TryAbandon ())
						return false;
					Monitor.Wait (this, pollMs);
				}
			}
			return true;
		}

		// 0: ASP.NET has not touched the request yet; 1: ASP.NET runs it (it
		// created its HttpContext, or sent or read something); 2: abandoned by
		// the host, which may already have given the connection to another try.
		int claim;

		public bool Abandoned {
			get { return Volatile.Read (ref claim) == 2; }
		}

		// Abandons the request unless ASP.NET already began it. True when abandoned.
		public bool TryAbandon ()
		{
			if (Interlocked.CompareExchange (ref claim, 2, 0) == 1)
				return false;
			ended = true; // every member that checks it does nothing from now on
			return true;
		}

		// Called by every member through which ASP.NET runs a request (see claim):
		// false once the host abandoned it, and the member must then do nothing.
		bool Claim ()
		{
			int c = Volatile.Read (ref claim);
			if (c == 1)
				return true;
			return Interlocked.CompareExchange (ref claim, 1, 0) != 2;
		}
	}
}
