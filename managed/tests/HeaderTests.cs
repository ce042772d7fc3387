// Request headers, server variables and connection facts as System.Web sees them.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Web;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class KnownHeaderTests : WorkerRequestFixture
	{
		[Test]
		public void KnownHeader_UserAgent ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_USER_AGENT", "Mozilla/5.0 (X11)");
			Assert.AreEqual ("Mozilla/5.0 (X11)", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderUserAgent));
		}

		[Test]
		public void KnownHeader_ContentTypeFromContentTypeVar ()
		{
			var wr = Request ("REQUEST_URI", "/", "CONTENT_TYPE", "application/x-www-form-urlencoded");
			Assert.AreEqual ("application/x-www-form-urlencoded",
			                 wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderContentType));
		}

		[Test]
		public void KnownHeader_ContentLengthFromContentLengthVar ()
		{
			var wr = Request ("CONTENT_LENGTH", "42", "REQUEST_URI", "/");
			Assert.AreEqual ("42", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderContentLength));
		}

		[Test]
		public void KnownHeader_TwoCookieVarsJoinedWithSemicolon ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_COOKIE", "a=1", "HTTP_ACCEPT", "*/*", "HTTP_COOKIE", "b=2");
			Assert.AreEqual ("a=1; b=2", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderCookie));
		}

		[Test]
		public void KnownHeader_TwoAcceptVarsJoinedWithComma ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_ACCEPT", "text/html", "HTTP_ACCEPT", "application/json");
			Assert.AreEqual ("text/html, application/json", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderAccept));
		}

		[Test]
		public void KnownHeader_HostAndMultiWordNames ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_HOST", "example.com", "HTTP_ACCEPT_LANGUAGE", "de",
			                  "HTTP_IF_MODIFIED_SINCE", "Sat, 01 Jan 2000 00:00:00 GMT");
			Assert.AreEqual ("example.com", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderHost));
			Assert.AreEqual ("de", wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderAcceptLanguage));
			Assert.AreEqual ("Sat, 01 Jan 2000 00:00:00 GMT",
			                 wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderIfModifiedSince));
		}

		[Test]
		public void KnownHeader_AbsentOrOutOfRange_Null ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.IsNull (wr.GetKnownRequestHeader (HttpWorkerRequest.HeaderUserAgent));
			Assert.IsNull (wr.GetKnownRequestHeader (-1));
			Assert.IsNull (wr.GetKnownRequestHeader (HttpWorkerRequest.RequestHeaderMaximum));
		}
	}

	[TestFixture]
	public class UnknownHeaderTests : WorkerRequestFixture
	{
		static Dictionary<string, string> AsDictionary (string[][] headers)
		{
			var d = new Dictionary<string, string> (StringComparer.Ordinal);
			foreach (string[] h in headers) {
				Assert.AreEqual (2, h.Length);
				Assert.IsFalse (d.ContainsKey (h [0]), "duplicate unknown header " + h [0]);
				d.Add (h [0], h [1]);
			}
			return d;
		}

		[Test]
		public void UnknownHeaders_NameFromCgiName ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_X_CUSTOM_THING", "v1", "HTTP_DNT", "1");
			var d = AsDictionary (wr.GetUnknownRequestHeaders ());
			Assert.AreEqual ("v1", d ["X-Custom-Thing"]);
			Assert.AreEqual ("1", d ["Dnt"]);
			Assert.AreEqual (2, d.Count);
		}

		[Test]
		public void UnknownHeaders_ExcludeKnownHeadersAndNonHttpVars ()
		{
			var wr = Request ("CONTENT_LENGTH", "3", "REQUEST_METHOD", "POST", "REQUEST_URI", "/",
			                  "CONTENT_TYPE", "text/plain", "SERVER_NAME", "s", "HTTPS", "on",
			                  "HTTP_HOST", "h", "HTTP_USER_AGENT", "ua", "HTTP_COOKIE", "a=1",
			                  "HTTP_ACCEPT", "*/*", "HTTP_X_CUSTOM_THING", "v");
			var d = AsDictionary (wr.GetUnknownRequestHeaders ());
			CollectionAssert.AreEquivalent (new[] { "X-Custom-Thing" }, d.Keys);
		}

		[Test]
		public void UnknownHeaders_RepeatedVarGivesOneJoinedEntry ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_X_CUSTOM_THING", "a", "HTTP_X_OTHER", "o",
			                  "HTTP_X_CUSTOM_THING", "b");
			string[][] u = wr.GetUnknownRequestHeaders ();
			Assert.AreEqual (2, u.Length);
			var d = AsDictionary (u);
			Assert.AreEqual ("a, b", d ["X-Custom-Thing"]);
			Assert.AreEqual ("o", d ["X-Other"]);
			Assert.AreEqual ("X-Custom-Thing", u [0] [0], "first occurrence keeps its place");
		}

		// nginx's scgi module passes every request header as HTTP_*, so a POST
		// arrives with CONTENT_TYPE (from scgi_params) and HTTP_CONTENT_TYPE,
		// CONTENT_LENGTH (from the module) and HTTP_CONTENT_LENGTH.
		[Test]
		public void UnknownHeaders_NginxHttpContentTypeAndLength_NotReportedAsUnknown ()
		{
			var wr = Request ("CONTENT_LENGTH", "3", "REQUEST_METHOD", "POST", "REQUEST_URI", "/page.aspx",
			                  "CONTENT_TYPE", "text/plain", "HTTP_HOST", "h",
			                  "HTTP_CONTENT_TYPE", "text/plain", "HTTP_CONTENT_LENGTH", "3");
			var d = AsDictionary (wr.GetUnknownRequestHeaders ());
			CollectionAssert.DoesNotContain (d.Keys, "Content-Type");
			CollectionAssert.DoesNotContain (d.Keys, "Content-Length");
		}

		[Test]
		public void UnknownHeaders_NoneWhenOnlyKnown ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_HOST", "h");
			Assert.AreEqual (0, wr.GetUnknownRequestHeaders ().Length);
		}

		[Test]
		public void UnknownHeader_ByName ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTP_X_CUSTOM_THING", "v");
			Assert.AreEqual ("v", wr.GetUnknownRequestHeader ("X-Custom-Thing"));
			Assert.AreEqual ("v", wr.GetUnknownRequestHeader ("x-custom-thing"));
			Assert.IsNull (wr.GetUnknownRequestHeader ("X-Absent"));
		}
	}

	[TestFixture]
	public class ServerVariableTests : WorkerRequestFixture
	{
		[Test]
		public void ServerVariable_ArbitraryVarsPassedThrough ()
		{
			var wr = Request ("REQUEST_URI", "/", "DOCUMENT_ROOT", "/srv/www", "SCGI", "1",
			                  "HTTP_X_CUSTOM_THING", "v", "REMOTE_USER", "alice");
			Assert.AreEqual ("/srv/www", wr.GetServerVariable ("DOCUMENT_ROOT"));
			Assert.AreEqual ("1", wr.GetServerVariable ("SCGI"));
			Assert.AreEqual ("v", wr.GetServerVariable ("HTTP_X_CUSTOM_THING"));
			Assert.AreEqual ("alice", wr.GetServerVariable ("REMOTE_USER"));
		}

		[Test]
		public void ServerVariable_Absent_Null ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.IsNull (wr.GetServerVariable ("NO_SUCH_VARIABLE"));
		}

		// Mono's HttpResponse chunk-encodes by itself unless the gateway says CGI.
		[Test]
		public void ServerVariable_GatewayInterfaceDefaultsToCgi11 ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.AreEqual ("CGI/1.1", wr.GetServerVariable ("GATEWAY_INTERFACE"));
		}

		[Test]
		public void ServerVariable_GatewayInterfaceFromFrontEndKept ()
		{
			var wr = Request ("REQUEST_URI", "/", "GATEWAY_INTERFACE", "CGI/1.1");
			Assert.AreEqual ("CGI/1.1", wr.GetServerVariable ("GATEWAY_INTERFACE"));
		}

		[Test]
		public void ServerVariable_HttpsDefaultOff ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.AreEqual ("off", wr.GetServerVariable ("HTTPS"));
		}

		[Test]
		public void ServerVariable_HttpsDefaultOnWhenSecure ()
		{
			var wr = Request ("REQUEST_URI", "/", "REQUEST_SCHEME", "https");
			Assert.AreEqual ("on", wr.GetServerVariable ("HTTPS"));
		}

		[Test]
		public void ServerVariable_HttpsFromFrontEndKept ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTPS", "on");
			Assert.AreEqual ("on", wr.GetServerVariable ("HTTPS"));
		}

		[Test]
		public void ServerVariable_ServerSoftwareDefault ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.AreEqual ("scgi-mono", wr.GetServerVariable ("SERVER_SOFTWARE"));
		}
	}

	[TestFixture]
	public class ConnectionTests : WorkerRequestFixture
	{
		[Test]
		public void RemoteAddressAndPort ()
		{
			var wr = Request ("REQUEST_URI", "/", "REMOTE_ADDR", "192.0.2.7", "REMOTE_PORT", "54321");
			Assert.AreEqual ("192.0.2.7", wr.GetRemoteAddress ());
			Assert.AreEqual (54321, wr.GetRemotePort ());
			Assert.AreEqual ("192.0.2.7", wr.GetRemoteName ());
		}

		[Test]
		public void LocalAddressAndPort ()
		{
			var wr = Request ("REQUEST_URI", "/", "SERVER_ADDR", "198.51.100.1", "SERVER_PORT", "8080");
			Assert.AreEqual ("198.51.100.1", wr.GetLocalAddress ());
			Assert.AreEqual (8080, wr.GetLocalPort ());
		}

		[Test]
		public void AddressesAndPorts_Defaults ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.AreEqual ("127.0.0.1", wr.GetRemoteAddress ());
			Assert.AreEqual ("127.0.0.1", wr.GetLocalAddress ());
			Assert.AreEqual (0, wr.GetRemotePort ());
			Assert.AreEqual (0, wr.GetLocalPort ());
		}

		[Test]
		public void Ports_Unparsable_Zero ()
		{
			var wr = Request ("REQUEST_URI", "/", "SERVER_PORT", "http", "REMOTE_PORT", "-1");
			Assert.AreEqual (0, wr.GetLocalPort ());
			Assert.AreEqual (0, wr.GetRemotePort ());
		}

		// The server name is the C host's (route.c: the Host without its port,
		// else SERVER_NAME, else SERVER_ADDR; tests/test_route.c); the managed
		// side reports it as given, whatever the variables say.
		[Test]
		public void ServerName_AsTheHostDecided ()
		{
			var vars = CgiBlock.Vars ("REQUEST_URI", "/", "HTTP_HOST", "www.example.com:8080", "SERVER_NAME", "other");
			var target = new RequestTarget ("/", "/", new byte [0], "decided.example");
			var wr = new ScgiWorkerRequest (vars, target, Paths ("/"), Sink, IntPtr.Zero, 0);
			Assert.AreEqual ("decided.example", wr.GetServerName ());
		}
	}

	[TestFixture]
	public class SecureTests : WorkerRequestFixture
	{
		[Test]
		public void Secure_HttpsOn ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTPS", "on");
			Assert.IsTrue (wr.IsSecure ());
			Assert.AreEqual ("https", wr.GetProtocol ());
		}

		[Test]
		public void Secure_HttpsOnUppercase ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTPS", "ON");
			Assert.IsTrue (wr.IsSecure ());
		}

		[Test]
		public void Secure_Https1 ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTPS", "1");
			Assert.IsTrue (wr.IsSecure ());
			Assert.AreEqual ("https", wr.GetProtocol ());
		}

		[Test]
		public void Secure_ServerPortSecure1 ()
		{
			var wr = Request ("REQUEST_URI", "/", "SERVER_PORT_SECURE", "1");
			Assert.IsTrue (wr.IsSecure ());
			Assert.AreEqual ("https", wr.GetProtocol ());
		}

		[Test]
		public void Secure_RequestSchemeHttps ()
		{
			var wr = Request ("REQUEST_URI", "/", "REQUEST_SCHEME", "https");
			Assert.IsTrue (wr.IsSecure ());
			Assert.AreEqual ("https", wr.GetProtocol ());
		}

		[Test]
		public void Secure_None ()
		{
			var wr = Request ("REQUEST_URI", "/", "SERVER_PORT", "443");
			Assert.IsFalse (wr.IsSecure ());
			Assert.AreEqual ("http", wr.GetProtocol ());
		}

		[Test]
		public void Secure_ExplicitlyOff ()
		{
			var wr = Request ("REQUEST_URI", "/", "HTTPS", "off", "SERVER_PORT_SECURE", "0", "REQUEST_SCHEME", "http");
			Assert.IsFalse (wr.IsSecure ());
			Assert.AreEqual ("http", wr.GetProtocol ());
		}
	}
}
