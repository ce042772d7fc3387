// Which request paths an application hands to a handler rather than to the
// static file handler, by the last segment's name: the points where a URL may
// be split into FilePath and PathInfo (AppPaths.Split). Read once per AppDomain
// from the application's configuration; read-only afterwards.
using System;
using System.Collections.Generic;
using System.Web.Configuration;

namespace ScgiMono
{
	public sealed class HandlerMap
	{
		// The handler mappings of Mono's machine web.config that run code, for
		// when the application's configuration cannot be read (and for tests).
		public static readonly HandlerMap Default = new HandlerMap (
			new[] { "*.aspx", "*.ashx", "*.asmx", "*.axd", "*.svc", "*.soap", "*.rem" }, null);

		// Build providers that compile no handler: a file of theirs is served
		// (or refused) by the httpHandlers mappings alone.
		static readonly string[] NonHandlerProviders = {
			"ForceCopyBuildProvider", "IgnoreFileBuildProvider", "ResXBuildProvider",
			"ResourcesBuildProvider", "WsdlBuildProvider", "XsdBuildProvider",
		};

		// Handlers that serve the file itself: a "path" of theirs is no split point.
		static readonly string[] FileHandlers = {
			"System.Web.StaticFileHandler", "System.Web.DefaultHttpHandler",
		};

		readonly List<string> suffixes = new List<string> ();  // "*.aspx" -> ".aspx"
		readonly HashSet<string> names = new HashSet<string> (StringComparer.OrdinalIgnoreCase); // "trace.axd"

		// handlerPaths: httpHandlers "path" values ("*.aspx", "trace.axd", lists
		// separated by ','); buildExtensions: build provider extensions (".cshtml").
		// Patterns with '/' or an inner '*' and the catch-all "*" are ignored.
		public HandlerMap (IEnumerable<string> handlerPaths, IEnumerable<string> buildExtensions)
		{
			if (handlerPaths != null)
				foreach (string list in handlerPaths)
					foreach (string part in (list ?? "").Split (','))
						AddPattern (part.Trim ());
			if (buildExtensions != null)
				foreach (string ext in buildExtensions)
					if (!string.IsNullOrEmpty (ext) && ext [0] == '.' && ext.Length > 1)
						AddSuffix (ext);
		}

		void AddPattern (string p)
		{
			if (p.Length == 0 || p.IndexOf ('/') >= 0 || p.IndexOf ('*', 1) >= 0)
				return;
			if (p [0] != '*')
				names.Add (p);
			else if (p.Length > 1)
				AddSuffix (p.Substring (1));
		}

		void AddSuffix (string s)
		{
			foreach (string have in suffixes)
				if (string.Equals (have, s, StringComparison.OrdinalIgnoreCase))
					return;
			suffixes.Add (s);
		}

		// TRUE when a handler takes a request for this path (only its last
		// segment counts; letter case does not, as in ASP.NET's mappings).
		public bool IsMapped (string path)
		{
			int slash = path.LastIndexOf ('/');
			string name = slash < 0 ? path : path.Substring (slash + 1);
			if (name.Length == 0)
				return false;
			if (names.Contains (name))
				return true;
			foreach (string s in suffixes)
				if (name.Length > s.Length && name.EndsWith (s, StringComparison.OrdinalIgnoreCase))
					return true;
			return false;
		}

		public override string ToString ()
		{
			var all = new List<string> (suffixes);
			all.AddRange (names);
			return string.Join (" ", all.ToArray ());
		}

		// The application's system.web/httpHandlers paths (less those of the
		// static file handlers) and the extensions of its handler build providers
		// (system.web/compilation), as configured for the application's root.
		// Call inside the application's AppDomain; Default if it cannot be read.
		public static HandlerMap FromConfiguration ()
		{
			try {
				var paths = new List<string> ();
				var handlers = WebConfigurationManager.GetWebApplicationSection ("system.web/httpHandlers") as HttpHandlersSection;
				if (handlers != null)
					foreach (HttpHandlerAction a in handlers.Handlers)
						if (!EndsWithAny (a.Type, FileHandlers))
							paths.Add (a.Path);
				var exts = new List<string> ();
				var compilation = WebConfigurationManager.GetWebApplicationSection ("system.web/compilation") as CompilationSection;
				if (compilation != null)
					foreach (BuildProvider b in compilation.BuildProviders)
						if (!EndsWithAny (b.Type, NonHandlerProviders))
							exts.Add (b.Extension);
				return new HandlerMap (paths, exts);
			} catch (Exception e) {
				ServerLog.Write (ServerLog.Warn, "cannot read the handler mappings, using ASP.NET's defaults: {0}", e.Message);
				return Default;
			}
		}

		// TRUE when the type name (possibly assembly-qualified) is one of names.
		static bool EndsWithAny (string type, string[] names)
		{
			if (type == null)
				return false;
			int comma = type.IndexOf (',');
			string t = (comma < 0 ? type : type.Substring (0, comma)).Trim ();
			foreach (string n in names)
				if (t == n || t.EndsWith ("." + n, StringComparison.Ordinal))
					return true;
			return false;
		}
	}
}
