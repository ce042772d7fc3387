// The request line and paths as System.Web sees them: verb, raw URL, the
// FilePath/PathInfo split, default documents, query strings, MapPath and the
// application's paths. Decoding the URL, rebuilding it without REQUEST_URI and
// the private-path rule are the C host's (tests/test_urlpath.c, test_route.c).
using System;
using System.IO;
using System.Text;
using System.Web;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class RequestLineTests : WorkerRequestFixture
	{
		[Test]
		public void Verb_FromRequestMethod ()
		{
			var wr = Request ("REQUEST_METHOD", "POST", "REQUEST_URI", "/page.aspx");
			Assert.AreEqual ("POST", wr.GetHttpVerbName ());
		}

		[Test]
		public void Verb_MissingDefaultsToGet ()
		{
			var wr = Request ("REQUEST_URI", "/page.aspx");
			Assert.AreEqual ("GET", wr.GetHttpVerbName ());
		}

		[Test]
		public void RawUrl_IsRequestUriUnchanged ()
		{
			var wr = Get ("/caf%C3%A9.aspx/x%20y?a=%41+b&c=d");
			Assert.AreEqual ("/caf%C3%A9.aspx/x%20y?a=%41+b&c=d", wr.GetRawUrl ());
		}

		[Test]
		public void HttpVersion_FromServerProtocol ()
		{
			var wr = Request ("REQUEST_URI", "/", "SERVER_PROTOCOL", "HTTP/1.0");
			Assert.AreEqual ("HTTP/1.0", wr.GetHttpVersion ());
		}

		[Test]
		public void HttpVersion_MissingDefaultsTo11 ()
		{
			var wr = Request ("REQUEST_URI", "/");
			Assert.AreEqual ("HTTP/1.1", wr.GetHttpVersion ());
		}
	}

	[TestFixture]
	public class PathSplitTests : WorkerRequestFixture
	{
		[Test]
		public void PathInfo_SplitAfterPage ()
		{
			var wr = Get ("/page.aspx/extra/info?q=1");
			Assert.AreEqual ("/page.aspx/extra/info", wr.GetUriPath ());
			Assert.AreEqual ("/page.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/extra/info", wr.GetPathInfo ());
			Assert.AreEqual ("q=1", wr.GetQueryString ());
		}

		[Test]
		public void PathInfo_SplitAfterPage_AppMountedAtApp ()
		{
			var wr = GetAt ("/app", "/app/page.aspx/extra/info?q=1");
			Assert.AreEqual ("/app/page.aspx/extra/info", wr.GetUriPath ());
			Assert.AreEqual ("/app/page.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/extra/info", wr.GetPathInfo ());
			Assert.AreEqual ("/app", wr.GetAppPath ());
			Assert.AreEqual (PhysRoot + "page.aspx", wr.GetFilePathTranslated ());
		}

		[Test]
		public void PathInfo_NoneForPlainPage ()
		{
			var wr = Get ("/page.aspx");
			Assert.AreEqual ("/page.aspx", wr.GetUriPath ());
			Assert.AreEqual ("/page.aspx", wr.GetFilePath ());
			Assert.AreEqual ("", wr.GetPathInfo ());
		}

		[Test]
		public void DottedDirectory_NotSplit ()
		{
			var wr = Get ("/dir.v2/page.aspx");
			Assert.AreEqual ("/dir.v2/page.aspx", wr.GetUriPath ());
			Assert.AreEqual ("/dir.v2/page.aspx", wr.GetFilePath ());
			Assert.AreEqual ("", wr.GetPathInfo ());
		}

		[Test]
		public void DottedDirectory_ThenPathInfo ()
		{
			var wr = Get ("/dir.v2/page.aspx/more");
			Assert.AreEqual ("/dir.v2/page.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/more", wr.GetPathInfo ());
		}

		[Test]
		public void DefaultDocument_Root ()
		{
			var wr = Get ("/");
			Assert.AreEqual ("/Default.aspx", wr.GetFilePath ());
			Assert.AreEqual ("", wr.GetPathInfo ());
			Assert.AreEqual ("/", wr.GetRawUrl ());
			Assert.AreEqual (PhysRoot + "Default.aspx", wr.GetFilePathTranslated ());
		}

		[Test]
		public void DefaultDocument_Subdirectory ()
		{
			var wr = Get ("/dir/");
			Assert.AreEqual ("/dir/Default.aspx", wr.GetFilePath ());
			Assert.AreEqual ("", wr.GetPathInfo ());
			Assert.AreEqual (PhysRoot + "dir/Default.aspx", wr.GetFilePathTranslated ());
		}

		[Test]
		public void DefaultDocument_AppMountedAtApp ()
		{
			var wr = GetAt ("/app", "/app/");
			Assert.AreEqual ("/app/Default.aspx", wr.GetFilePath ());
		}

		[Test]
		public void DefaultDocument_NoneInDirectory_PathUnchanged ()
		{
			var wr = Get ("/sub/");
			Assert.AreEqual ("/sub/", wr.GetFilePath ());
			Assert.AreEqual ("", wr.GetPathInfo ());
		}

		[Test]
		public void PercentEncodedUtf8Path_Decoded ()
		{
			var wr = Get ("/caf%C3%A9.aspx");
			Assert.AreEqual ("/café.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/café.aspx", wr.GetUriPath ());
			Assert.AreEqual ("/caf%C3%A9.aspx", wr.GetRawUrl ());
			Assert.AreEqual (PhysRoot + "café.aspx", wr.GetFilePathTranslated ());
		}

		[Test]
		public void PercentEncodedPath_LowercaseHexAndSpace ()
		{
			var wr = Get ("/my%20page%c3%a9.aspx");
			Assert.AreEqual ("/my pageé.aspx", wr.GetFilePath ());
		}

		[Test]
		public void PlusKeptInPath ()
		{
			var wr = Get ("/a+b.aspx/c+d?x=1+2");
			Assert.AreEqual ("/a+b.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/c+d", wr.GetPathInfo ());
			Assert.AreEqual ("x=1+2", wr.GetQueryString ());
		}

		[Test]
		public void EncodedPlusDecodedToPlus ()
		{
			var wr = Get ("/a%2Bb.aspx");
			Assert.AreEqual ("/a+b.aspx", wr.GetFilePath ());
		}

	}

	// Where a path is split into FilePath and PathInfo, as IIS and Mono's own
	// servers do: only after a name a handler takes (the application's
	// httpHandlers and handler build providers) or an existing file; MVC URLs
	// with dots or trailing slashes are the file path whole.
	[TestFixture]
	public class SplitRuleTests : WorkerRequestFixture
	{
		[SetUp]
		public void AddFiles ()
		{
			Directory.CreateDirectory (Path.Combine (App.Root, "Content"));
			App.Write ("Content/site.css", "body {}");
			App.Write ("style.css", "p {}");
			App.Write ("echo.ashx", "<%@ WebHandler Language=\"C#\" Class=\"E\" %>");
			Directory.CreateDirectory (Path.Combine (App.Root, "v1.0"));
			App.Write ("v1.0/Default.aspx", "<%@ Page Language=\"C#\" %>v1");
		}

		// url (decoded path) -> FilePath, PathInfo; for the app at "/" and at "/mvc".
		[TestCase ("/Home/Paths/a.b/", "/Home/Paths/a.b/", "")]
		[TestCase ("/Home/Paths/a.b", "/Home/Paths/a.b", "")]
		[TestCase ("/users/john.doe/edit", "/users/john.doe/edit", "")]
		[TestCase ("/api/v1.2/items", "/api/v1.2/items", "")]
		[TestCase ("/api/v1.2/items/", "/api/v1.2/items/", "")]
		[TestCase ("/Home/About", "/Home/About", "")]
		[TestCase ("/Home/Details/42", "/Home/Details/42", "")]
		[TestCase ("/page.aspx/extra/info", "/page.aspx", "/extra/info")]
		[TestCase ("/page.aspx/", "/page.aspx", "/")]
		[TestCase ("/missing.aspx/extra", "/missing.aspx", "/extra")]
		[TestCase ("/PAGE.ASPX/x", "/PAGE.ASPX", "/x")]
		[TestCase ("/echo.ashx/a.b/c.aspx/d", "/echo.ashx", "/a.b/c.aspx/d")]
		[TestCase ("/users/john.doe/page.aspx/x", "/users/john.doe/page.aspx", "/x")]
		[TestCase ("/WebResource.axd/x", "/WebResource.axd", "/x")]
		[TestCase ("/Content/site.css", "/Content/site.css", "")]
		[TestCase ("/Content/site.css/", "/Content/site.css", "/")]
		[TestCase ("/style.css/extra", "/style.css", "/extra")]
		[TestCase ("/dir.v2/page.aspx/more", "/dir.v2/page.aspx", "/more")]
		[TestCase ("/dir.v2/", "/dir.v2/", "")]
		[TestCase ("/v1.0/", "/v1.0/Default.aspx", "")]
		[TestCase ("/dir/", "/dir/Default.aspx", "")]
		[TestCase ("/", "/Default.aspx", "")]
		public void Split_AsIisAndMonoServers (string url, string filePath, string pathInfo)
		{
			foreach (string mount in new[] { "/", "/mvc" }) {
				string prefix = mount == "/" ? "" : mount;
				var wr = GetAt (mount, prefix + url);
				Assert.AreEqual (prefix + filePath, wr.GetFilePath (), "FilePath of " + prefix + url);
				Assert.AreEqual (pathInfo, wr.GetPathInfo (), "PathInfo of " + prefix + url);
			}
		}

		// A static file (no handler takes its name) with a PathInfo is 404.
		[TestCase ("/Content/site.css/", true)]
		[TestCase ("/style.css/extra", true)]
		[TestCase ("/Content/site.css", false)]
		[TestCase ("/page.aspx/extra", false)]
		[TestCase ("/missing.aspx/extra", false)]
		[TestCase ("/echo.ashx/x", false)]
		[TestCase ("/Home/Paths/a.b/", false)]
		[TestCase ("/users/john.doe/edit", false)]
		public void StaticFileWithPathInfo (string url, bool expected)
		{
			foreach (string mount in new[] { "/", "/mvc" }) {
				string prefix = mount == "/" ? "" : mount;
				var wr = GetAt (mount, prefix + url);
				Assert.AreEqual (expected, Paths (mount).IsStaticFileWithPathInfo (wr.GetFilePath (), wr.GetPathInfo ()),
				                 prefix + url);
			}
		}

		[Test]
		public void HandlerMap_FromConfiguredPatterns ()
		{
			var m = new HandlerMap (new[] { "*.aspx", "*", "trace.axd", "*_AppService.axd", "*.a, *.b", "Views/*", "*.x*y" },
			                        new[] { ".cshtml", "", "vbhtml" });
			Assert.IsTrue (m.IsMapped ("/p.aspx"));
			Assert.IsTrue (m.IsMapped ("/dir/P.AsPx"));
			Assert.IsTrue (m.IsMapped ("/trace.axd"));
			Assert.IsTrue (m.IsMapped ("/TRACE.AXD"));
			Assert.IsFalse (m.IsMapped ("/other.axd"), "only the names configured");
			Assert.IsTrue (m.IsMapped ("/Auth_AppService.axd"));
			Assert.IsTrue (m.IsMapped ("/x.a"));
			Assert.IsTrue (m.IsMapped ("/x.b"));
			Assert.IsTrue (m.IsMapped ("/Views/Home/Index.cshtml"));
			Assert.IsFalse (m.IsMapped ("/x.vbhtml"), "an extension without its dot is not one");
			Assert.IsFalse (m.IsMapped ("/Views/x"), "patterns with '/' are not names");
			Assert.IsFalse (m.IsMapped ("/site.css"), "the catch-all '*' is the static file handler's");
			Assert.IsFalse (m.IsMapped ("/.aspx/"), "no name");
			Assert.IsFalse (m.IsMapped ("/dir/"));
		}

		[Test]
		public void Split_FollowsTheApplicationsMappings ()
		{
			// .cshtml mapped by this application, .aspx not: /page.aspx exists, so
			// it is still a file (a static one now), /missing.aspx is not.
			var p = new AppPaths ("/", App.Root, new HandlerMap (new[] { "*.cshtml" }, null));
			string f, pi;
			p.Split ("/x/Index.cshtml/more", out f, out pi);
			Assert.AreEqual (new[] { "/x/Index.cshtml", "/more" }, new[] { f, pi });
			p.Split ("/missing.aspx/more", out f, out pi);
			Assert.AreEqual (new[] { "/missing.aspx/more", "" }, new[] { f, pi });
			p.Split ("/page.aspx/more", out f, out pi);
			Assert.AreEqual (new[] { "/page.aspx", "/more" }, new[] { f, pi });
			Assert.IsTrue (p.IsStaticFileWithPathInfo (f, pi));
		}

		[Test]
		public void DefaultMap_RunsCodeOnly ()
		{
			foreach (string ext in new[] { "aspx", "ashx", "asmx", "axd", "svc" })
				Assert.IsTrue (HandlerMap.Default.IsMapped ("/x." + ext), ext);
			foreach (string ext in new[] { "css", "js", "html", "cshtml", "txt" })
				Assert.IsFalse (HandlerMap.Default.IsMapped ("/x." + ext), ext);
		}
	}

	[TestFixture]
	public class QueryStringTests : WorkerRequestFixture
	{
		[Test]
		public void QueryString_FromQueryStringVar ()
		{
			var wr = Get ("/page.aspx?a=1&b=%41&c=d+e");
			Assert.AreEqual ("a=1&b=%41&c=d+e", wr.GetQueryString ());
		}

		[Test]
		public void QueryString_EmptyWhenNone ()
		{
			var wr = Get ("/page.aspx");
			Assert.AreEqual ("", wr.GetQueryString ());
			Assert.AreEqual (0, wr.GetQueryStringRawBytes ().Length);
		}

		[Test]
		public void QueryStringRawBytes_KeepEscapesAndUtf8 ()
		{
			// A client that sends raw UTF-8 in the query: the bytes must reach
			// ASP.NET unchanged, %-escapes undecoded.
			var wr = Request ("REQUEST_METHOD", "GET", "REQUEST_URI", "/page.aspx?q=caf%C3%A9&n=é",
			                  "QUERY_STRING", "q=caf%C3%A9&n=é");
			byte[] expected = { (byte) 'q', (byte) '=', (byte) 'c', (byte) 'a', (byte) 'f',
			                    (byte) '%', (byte) 'C', (byte) '3', (byte) '%', (byte) 'A', (byte) '9',
			                    (byte) '&', (byte) 'n', (byte) '=', 0xC3, 0xA9 };
			CollectionAssert.AreEqual (expected, wr.GetQueryStringRawBytes ());
			Assert.AreEqual ("q=caf%C3%A9&n=é", wr.GetQueryString ());
		}
	}

	[TestFixture]
	public class MapPathTests : WorkerRequestFixture
	{
		[Test]
		public void MapPath_AppRoot ()
		{
			var wr = Get ("/");
			Assert.AreEqual (PhysRoot, wr.MapPath ("/"));
			Assert.AreEqual (PhysRoot, wr.MapPath (""));
		}

		[Test]
		public void MapPath_EmptySegments_Collapsed ()
		{
			var wr = Get ("/");
			Assert.AreEqual (PhysRoot, wr.MapPath ("//"));
			Assert.AreEqual (PhysRoot + "dir/Default.aspx", wr.MapPath ("/dir//Default.aspx"));
			Assert.AreEqual (PhysRoot + "dir/", wr.MapPath ("//dir//"));
		}

		[Test]
		public void MapPath_Subpaths ()
		{
			var wr = Get ("/");
			Assert.AreEqual (PhysRoot + "page.aspx", wr.MapPath ("/page.aspx"));
			Assert.AreEqual (PhysRoot + "dir/Default.aspx", wr.MapPath ("/dir/Default.aspx"));
			Assert.AreEqual (PhysRoot + "dir/", wr.MapPath ("/dir/"));
			Assert.IsTrue (File.Exists (wr.MapPath ("/dir/Default.aspx")));
		}

		[Test]
		public void MapPath_AppMountedAtApp_RootAndSubpaths ()
		{
			var wr = GetAt ("/app", "/app/page.aspx");
			Assert.AreEqual (PhysRoot, wr.MapPath ("/app"));
			Assert.AreEqual (PhysRoot, wr.MapPath ("/app/"));
			Assert.AreEqual (PhysRoot + "page.aspx", wr.MapPath ("/app/page.aspx"));
			Assert.AreEqual (PhysRoot + "dir/Default.aspx", wr.MapPath ("/app/dir/Default.aspx"));
		}

		[Test]
		public void MapPath_OutsideApp_Null ()
		{
			var wr = GetAt ("/app", "/app/page.aspx");
			Assert.IsNull (wr.MapPath ("/other/page.aspx"));
			Assert.IsNull (wr.MapPath ("/application/page.aspx"));
			Assert.IsNull (wr.MapPath ("/"));
			Assert.IsNull (wr.MapPath ("relative.aspx"));
		}

		[Test]
		public void MapPath_DotSegmentsInsideApp_Resolved ()
		{
			var wr = GetAt ("/app", "/app/page.aspx");
			Assert.AreEqual (PhysRoot + "page.aspx", wr.MapPath ("/app/dir/../page.aspx"));
			Assert.AreEqual (PhysRoot + "dir/", wr.MapPath ("/app/./dir/."));
			Assert.IsNull (wr.MapPath ("/app/../other/x"), "resolved outside the application");
		}

		// ASP.NET answers a ".." above the root with its HttpException
		// ("Cannot use a leading .. to exit above the top directory."), not a
		// NullReferenceException. (Server.MapPath needs a hosted application:
		// tests/integration/test_96_path_rule.py calls it from a page.)
		[Test]
		public void MapPath_DotDotAboveRoot_HttpException ()
		{
			var wr = Get ("/page.aspx");
			Assert.Throws<HttpException> (() => wr.MapPath ("/../etc/passwd"));
			Assert.Throws<HttpException> (() => wr.MapPath ("/dir/../../x"));
			Assert.Throws<HttpException> (() => GetAt ("/app", "/app/").MapPath ("/app/../../x"));
		}

		[Test]
		public void RequestTarget_PathIsTakenAsGiven ()
		{
			// the C host decodes and normalises once; the managed side must not
			// decode again ("%2541" is the file "%41", not "A")
			var vars = CgiBlock.Vars ("REQUEST_METHOD", "GET", "REQUEST_URI", "/x%2541.aspx");
			var target = new RequestTarget ("/x%2541.aspx", "/x%41.aspx", new byte [0], "h");
			var wr = new ScgiWorkerRequest (vars, target, Paths ("/"), Sink, IntPtr.Zero, 0);
			Assert.AreEqual ("/x%41.aspx", wr.GetFilePath ());
			Assert.AreEqual ("/x%2541.aspx", wr.GetRawUrl ());
		}

		[Test]
		public void AppPath_Root ()
		{
			Assert.AreEqual ("/", Get ("/").GetAppPath ());
		}

		[Test]
		public void AppPath_Mounted_NoTrailingSlash ()
		{
			var p = new AppPaths ("/app/", App.Root);
			Assert.AreEqual ("/app", p.VirtualPath);
			Assert.AreEqual ("/app", GetAt ("/app", "/app/").GetAppPath ());
		}

		[Test]
		public void AppPathTranslated_HasTrailingSlash ()
		{
			var wr = Get ("/");
			Assert.AreEqual (PhysRoot, wr.GetAppPathTranslated ());
			StringAssert.EndsWith ("/", wr.GetAppPathTranslated ());
			// Already slashed: not doubled.
			Assert.AreEqual (PhysRoot, new AppPaths ("/", PhysRoot).PhysicalPath);
		}

		[Test]
		public void FilePathTranslated_ForPageWithPathInfo ()
		{
			var wr = Get ("/page.aspx/extra/info?q=1");
			Assert.AreEqual (PhysRoot + "page.aspx", wr.GetFilePathTranslated ());
		}

		[Test]
		public void FilePathTranslated_DottedDirectory ()
		{
			var wr = Get ("/dir.v2/page.aspx");
			Assert.AreEqual (PhysRoot + "dir.v2/page.aspx", wr.GetFilePathTranslated ());
			Assert.IsTrue (File.Exists (wr.GetFilePathTranslated ()));
		}

		[Test]
		public void AppPaths_RejectsRelativeVirtualPath ()
		{
			Assert.Throws<ArgumentException> (() => new AppPaths ("app", App.Root));
			Assert.Throws<ArgumentException> (() => new AppPaths ("", App.Root));
		}
	}
}
