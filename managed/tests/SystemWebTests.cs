// What System.Web itself makes of a worker request: an HttpContext built over
// ScgiWorkerRequest (no HttpRuntime.ProcessRequest, no hosted AppDomain), read
// through HttpRequest and written through HttpResponse.
using System;
using System.Text;
using System.Web;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class SystemWebTests : WorkerRequestFixture
	{
		[Test]
		public void HttpRequest_PathsQueryAndMethod ()
		{
			var wr = Request ("CONTENT_LENGTH", "0", "REQUEST_METHOD", "GET",
			                  "REQUEST_URI", "/caf%C3%A9.aspx/extra?q=1&r=%C3%A9", "QUERY_STRING", "q=1&r=%C3%A9",
			                  "SERVER_PROTOCOL", "HTTP/1.1", "HTTP_HOST", "example.com:8080", "SERVER_PORT", "8080");
			HttpRequest r = new HttpContext (wr).Request;
			Assert.AreEqual ("GET", r.HttpMethod);
			Assert.AreEqual ("/caf%C3%A9.aspx/extra?q=1&r=%C3%A9", r.RawUrl);
			Assert.AreEqual ("/café.aspx", r.FilePath);
			Assert.AreEqual ("/extra", r.PathInfo);
			Assert.AreEqual ("1", r.QueryString ["q"]);
			Assert.AreEqual ("é", r.QueryString ["r"]);
			Assert.AreEqual ("/", r.ApplicationPath);
			Assert.AreEqual (PhysRoot + "café.aspx", r.PhysicalPath);
		}

		[Test]
		public void HttpRequest_UrlFromHostAndPort ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx?q=1", "QUERY_STRING", "q=1",
			                  "HTTP_HOST", "example.com:8080", "SERVER_PORT", "8080");
			Uri u = new HttpContext (wr).Request.Url;
			Assert.AreEqual ("http", u.Scheme);
			Assert.AreEqual ("example.com", u.Host);
			Assert.AreEqual (8080, u.Port);
			Assert.AreEqual ("?q=1", u.Query);
		}

		[Test]
		public void HttpRequest_SecureFromHttps ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx", "HTTPS", "on",
			                  "HTTP_HOST", "example.com", "SERVER_PORT", "443");
			HttpRequest r = new HttpContext (wr).Request;
			Assert.IsTrue (r.IsSecureConnection);
			Assert.AreEqual ("https", r.Url.Scheme);
		}

		[Test]
		public void HttpRequest_HeadersAndServerVariables ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx", "HTTP_HOST", "example.com:8080",
			                  "HTTP_USER_AGENT", "ua/1", "HTTP_X_CUSTOM_THING", "v", "HTTP_COOKIE", "a=1",
			                  "HTTP_COOKIE", "b=2", "REMOTE_ADDR", "192.0.2.7");
			HttpRequest r = new HttpContext (wr).Request;
			Assert.AreEqual ("ua/1", r.UserAgent);
			Assert.AreEqual ("v", r.Headers ["X-Custom-Thing"]);
			Assert.AreEqual ("example.com:8080", r.Headers ["Host"]);
			Assert.AreEqual ("1", r.Cookies ["a"].Value);
			Assert.AreEqual ("2", r.Cookies ["b"].Value);
			Assert.AreEqual ("192.0.2.7", r.UserHostAddress);
			Assert.AreEqual ("example.com", r.ServerVariables ["SERVER_NAME"]);
		}

		// nginx sends CONTENT_TYPE and HTTP_CONTENT_TYPE (and both lengths); System.Web
		// lists every header the worker request reports as unknown a second time.
		[Test]
		public void HttpRequest_NginxDuplicateContentType_AllRawListsItOnce ()
		{
			var wr = RequestWithBody (Encoding.ASCII.GetBytes ("a=1"), "CONTENT_LENGTH", "3", "REQUEST_METHOD", "POST",
			                          "REQUEST_URI", "/page.aspx", "CONTENT_TYPE", "application/x-www-form-urlencoded",
			                          "HTTP_HOST", "h", "HTTP_CONTENT_TYPE", "application/x-www-form-urlencoded",
			                          "HTTP_CONTENT_LENGTH", "3");
			string raw = new HttpContext (wr).Request.ServerVariables ["ALL_RAW"];
			int first = raw.IndexOf ("Content-Type:", StringComparison.Ordinal);
			Assert.GreaterOrEqual (first, 0);
			Assert.AreEqual (-1, raw.IndexOf ("Content-Type:", first + 1, StringComparison.Ordinal), raw);
		}

		[Test]
		public void HttpRequest_FormFromPreloadedBody ()
		{
			byte[] body = Encoding.ASCII.GetBytes ("a=1&b=caf%C3%A9");
			var wr = RequestWithBody (body, "CONTENT_LENGTH", body.Length.ToString (), "REQUEST_METHOD", "POST",
			                          "REQUEST_URI", "/page.aspx", "CONTENT_TYPE", "application/x-www-form-urlencoded");
			HttpRequest r = new HttpContext (wr).Request;
			Assert.AreEqual (body.Length, r.ContentLength);
			Assert.AreEqual ("1", r.Form ["a"]);
			Assert.AreEqual ("café", r.Form ["b"]);
		}

		// Above the preload limit, below System.Web's disk threshold (no temp dir
		// outside a hosted AppDomain): the body arrives through ReadEntityBody.
		[Test]
		public void HttpRequest_FormFromLargeBodyReadInChunks ()
		{
			byte[] head = Encoding.ASCII.GetBytes ("a=1&pad=");
			byte[] body = new byte [70000];
			Array.Copy (head, body, head.Length);
			for (int i = head.Length; i < body.Length; i++)
				body [i] = (byte) 'x';
			var wr = RequestWithBody (body, "CONTENT_LENGTH", body.Length.ToString (), "REQUEST_METHOD", "POST",
			                          "REQUEST_URI", "/page.aspx", "CONTENT_TYPE", "application/x-www-form-urlencoded");
			Assert.IsFalse (wr.IsEntireEntityBodyIsPreloaded ());
			HttpRequest r = new HttpContext (wr).Request;
			Assert.AreEqual ("1", r.Form ["a"]);
			Assert.AreEqual (body.Length - head.Length, r.Form ["pad"].Length);
		}

		// GATEWAY_INTERFACE=CGI/1.1 keeps Mono's HttpResponse from chunk-encoding
		// an HTTP/1.1 response itself (the C host does the framing).
		[Test]
		public void HttpResponse_Http11_NotChunkEncodedByMono ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx", "SERVER_PROTOCOL", "HTTP/1.1");
			HttpResponse resp = new HttpContext (wr).Response;
			resp.Write ("hello");
			resp.Flush ();
			resp.Write ("world");
			resp.Flush ();
			Assert.AreEqual (1, Sink.Headers.Count);
			string head = Sink.Headers [0].Head;
			Assert.AreEqual (-1, head.IndexOf ("Transfer-Encoding", StringComparison.OrdinalIgnoreCase), head);
			StringAssert.Contains ("Content-Type: text/html", head);
			Assert.AreEqual ("helloworld", Sink.BodyText);
		}

		[Test]
		public void HttpResponse_StatusAndHeaders ()
		{
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx", "SERVER_PROTOCOL", "HTTP/1.1");
			HttpResponse resp = new HttpContext (wr).Response;
			resp.StatusCode = 418;
			resp.StatusDescription = "I'm a teapot";
			resp.ContentType = "text/plain";
			resp.AppendHeader ("X-Thing", "1");
			resp.Write ("tea");
			resp.Flush ();
			var h = Sink.Headers [0];
			Assert.AreEqual (418, h.Status);
			Assert.AreEqual ("I'm a teapot", h.Reason);
			StringAssert.Contains ("X-Thing: 1\r\n", h.Head);
			StringAssert.Contains ("Content-Type: text/plain", h.Head);
			Assert.AreEqual ("tea", Sink.BodyText);
		}
	}
}
