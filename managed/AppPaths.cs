// How a request URL maps onto an application: its mount (virtual path), its
// directory, the split of a path into FilePath and PathInfo, default documents.
// One instance per AppDomain; everything here is read-only after construction.
using System;
using System.IO;
using System.Text;

namespace ScgiMono
{
	public sealed class AppPaths
	{
		// Served for a request that names a directory ("/" or "/dir/"), in this order.
		static readonly string[] DefaultDocuments = {
			"Default.aspx", "default.aspx", "index.aspx", "Index.aspx", "index.html", "index.htm"
		};

		public readonly string VirtualPath;   // "/" or "/app" (no trailing slash)
		public readonly string PhysicalPath;  // "/srv/app/" (always a trailing slash)
		public readonly HandlerMap Handlers;  // which names a handler takes (the split points)

		// With ASP.NET's default handler mappings (HandlerMap.Default).
		public AppPaths (string virtualPath, string physicalPath)
			: this (virtualPath, physicalPath, HandlerMap.Default)
		{
		}

		public AppPaths (string virtualPath, string physicalPath, HandlerMap handlers)
		{
			if (handlers == null)
				throw new ArgumentNullException ("handlers");
			Handlers = handlers;
			if (string.IsNullOrEmpty (virtualPath) || virtualPath [0] != '/')
				throw new ArgumentException ("virtual path must start with '/'", "virtualPath");
			VirtualPath = virtualPath.Length > 1 ? virtualPath.TrimEnd ('/') : "/";
			PhysicalPath = physicalPath.EndsWith ("/") ? physicalPath : physicalPath + "/";
		}

		// The path relative to the application ("" for its root), or null when
		// the path is not inside the application. The request's own path comes
		// from the C host already canonical; this serves MapPath too, for paths an
		// application passes, where "." and ".." segments are resolved first.
		public string Relative (string path)
		{
			path = Reduce (path);
			if (path == null)
				return null;
			if (VirtualPath == "/")
				return path.StartsWith ("/") ? path.Substring (1) : null;
			if (path == VirtualPath)
				return "";
			if (path.StartsWith (VirtualPath + "/", StringComparison.Ordinal))
				return path.Substring (VirtualPath.Length + 1);
			return null;
		}

		// A rooted virtual path with its "." and ".." segments resolved and its
		// empty segments collapsed ("/a/./b/../c//d/" -> "/a/c/d/"); a path that
		// is not rooted is returned as it is. A ".." above the root throws
		// ASP.NET's own HttpException, as ASP.NET does for Server.MapPath("/../x").
		static string Reduce (string path)
		{
			if (path == null || path.Length == 0 || path [0] != '/')
				return path;
			if (path.IndexOf ("//", StringComparison.Ordinal) < 0 && !HasDotSegment (path))
				return path;
			var segs = new System.Collections.Generic.List<string> ();
			string[] parts = path.Split ('/');
			for (int i = 0; i < parts.Length; i++) {
				string p = parts [i];
				if (p.Length == 0 || p == ".")
					continue;
				if (p == "..") {
					if (segs.Count == 0)
						throw new System.Web.HttpException ("Cannot use a leading .. to exit above the top directory.");
					segs.RemoveAt (segs.Count - 1);
					continue;
				}
				segs.Add (p);
			}
			string last = parts [parts.Length - 1];
			bool dir = last.Length == 0 || last == "." || last == "..";
			var sb = new StringBuilder (path.Length);
			foreach (string p in segs)
				sb.Append ('/').Append (p);
			if (dir || sb.Length == 0)
				sb.Append ('/');
			return sb.ToString ();
		}

		// TRUE when a segment of the path is "." or "..".
		public static bool HasDotSegment (string path)
		{
			int start = 0;
			while (start <= path.Length) {
				int end = path.IndexOf ('/', start);
				if (end < 0)
					end = path.Length;
				int len = end - start;
				if ((len == 1 && path [start] == '.') || (len == 2 && path [start] == '.' && path [start + 1] == '.'))
					return true;
				start = end + 1;
			}
			return false;
		}

		// Virtual path -> physical path, like ASP.NET's MapPath for this application.
		public string MapPath (string path)
		{
			if (string.IsNullOrEmpty (path))
				return PhysicalPath;
			string rel = Relative (path);
			if (rel == null)
				return null;
			if (rel.Length == 0)
				return PhysicalPath;
			return PhysicalPath + rel;
		}

		// Splits a decoded URL path into the file ASP.NET serves and the PathInfo
		// after it, as IIS and Mono's own servers do: only at a segment that
		// names a handler (its name matches the application's httpHandlers or
		// handler build providers, Handlers below: "/page.aspx/extra" ->
		// "/page.aspx" + "/extra", whether the file exists or not) or an existing
		// file ("/site.css/x" -> "/site.css" + "/x", a static file with a
		// PathInfo, which Process answers 404). Anywhere else the whole path is
		// the file path and PathInfo is "" ("/Home/Paths/a.b/", "/users/john.doe/edit",
		// "/api/v1.2/items": extension-less MVC URLs). A path that names a
		// directory with a trailing slash gets its default document.
		// Cost: one stat() per dotted segment followed by more segments whose
		// name is not handler-mapped; none for other segments.
		public void Split (string uriPath, out string filePath, out string pathInfo)
		{
			pathInfo = "";
			filePath = uriPath;
			int start = VirtualPath == "/" ? 1 : VirtualPath.Length + 1;
			while (start < uriPath.Length) {
				int slash = uriPath.IndexOf ('/', start);
				if (slash < 0)
					break;
				if (uriPath.IndexOf ('.', start, slash - start) >= 0) {
					string prefix = uriPath.Substring (0, slash);
					if (Handlers.IsMapped (prefix) || IsFile (prefix)) {
						filePath = prefix;
						pathInfo = uriPath.Substring (slash);
						return;
					}
				}
				start = slash + 1;
			}
			if (uriPath.EndsWith ("/")) {
				string doc = DefaultDocument (uriPath);
				if (doc != null)
					filePath = uriPath + doc;
			}
		}

		bool IsFile (string path)
		{
			string p = MapPath (path);
			return p != null && File.Exists (p);
		}

		// TRUE for a request that Split cut after a file no handler takes
		// ("/Content/site.css/" or "/style.css/extra"): IIS and Mono's own
		// servers answer 404, they never serve the file.
		public bool IsStaticFileWithPathInfo (string filePath, string pathInfo)
		{
			return !string.IsNullOrEmpty (pathInfo) && !Handlers.IsMapped (filePath);
		}

		// The default document of a directory ("/" or "/dir/"), or null: one
		// stat() when the directory does not exist (an MVC URL with a trailing slash).
		public string DefaultDocument (string dirPath)
		{
			string dir = MapPath (dirPath);
			if (dir == null || !Directory.Exists (dir))
				return null;
			foreach (string d in DefaultDocuments)
				if (File.Exists (Path.Combine (dir, d)))
					return d;
			return null;
		}

		// TRUE when a path without a trailing slash names a directory of the
		// application (the client should be sent to path + "/").
		public bool IsDirectoryWithoutSlash (string uriPath)
		{
			if (uriPath.EndsWith ("/"))
				return false;
			string p = MapPath (uriPath);
			return p != null && Directory.Exists (p);
		}
	}
}
