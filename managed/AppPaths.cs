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
		// the path is not inside the application, including by "." or ".."
		// segments (a decoded "/%2e%2e/" must not reach outside the directory).
		public string Relative (string path)
		{
			if (path == null || HasDotSegment (path))
				return null;
			if (VirtualPath == "/")
				return path.StartsWith ("/") ? path.Substring (1) : null;
			if (path == VirtualPath)
				return "";
			if (path.StartsWith (VirtualPath + "/", StringComparison.Ordinal))
				return path.Substring (VirtualPath.Length + 1);
			return null;
		}

		static readonly string[] PrivateDirs = {
			"bin", "App_Code", "App_Data", "App_GlobalResources", "App_LocalResources",
			"App_WebReferences", "App_Browsers",
		};

		// TRUE when the path is inside one of ASP.NET's private directories of
		// this application (App_LocalResources may be at any depth).
		public bool IsPrivate (string path)
		{
			string rel = Relative (path);
			if (rel == null)
				return false;
			int slash = rel.IndexOf ('/');
			string first = slash < 0 ? rel : rel.Substring (0, slash);
			foreach (string d in PrivateDirs)
				if (string.Equals (first, d, StringComparison.OrdinalIgnoreCase))
					return true;
			return rel.IndexOf ("App_LocalResources/", StringComparison.OrdinalIgnoreCase) >= 0;
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
			// Empty segments ("//") name nothing on disk: "a//b" is "a/b".
			if (rel.IndexOf ("//", StringComparison.Ordinal) >= 0 || rel.StartsWith ("/", StringComparison.Ordinal)) {
				var sb = new System.Text.StringBuilder (rel.Length);
				foreach (char ch in rel)
					if (ch != '/' || (sb.Length > 0 && sb [sb.Length - 1] != '/'))
						sb.Append (ch);
				rel = sb.ToString ();
			}
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

		// Percent-decodes a URL path as UTF-8 ('+' stays '+': it is not a space in a path).
		public static string DecodePath (string raw)
		{
			if (raw.IndexOf ('%') < 0)
				return raw;
			var bytes = new byte [Encoding.UTF8.GetMaxByteCount (raw.Length)];
			int n = 0;
			for (int i = 0; i < raw.Length; i++) {
				char c = raw [i];
				int hi, lo;
				if (c == '%' && i + 2 < raw.Length &&
				    (hi = Hex (raw [i + 1])) >= 0 && (lo = Hex (raw [i + 2])) >= 0) {
					bytes [n++] = (byte) (hi * 16 + lo);
					i += 2;
				} else if (c < 0x80) {
					bytes [n++] = (byte) c;
				} else if (char.IsHighSurrogate (c) && i + 1 < raw.Length) {
					n += Encoding.UTF8.GetBytes (raw, i, 2, bytes, n);
					i++;
				} else {
					n += Encoding.UTF8.GetBytes (raw, i, 1, bytes, n);
				}
			}
			return Encoding.UTF8.GetString (bytes, 0, n);
		}

		static int Hex (char c)
		{
			if (c >= '0' && c <= '9') return c - '0';
			if (c >= 'a' && c <= 'f') return c - 'a' + 10;
			if (c >= 'A' && c <= 'F') return c - 'A' + 10;
			return -1;
		}
	}
}
