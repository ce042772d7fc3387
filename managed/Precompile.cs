// Precompilation (scgi-mono.conf: precompile = true in [app:NAME]): before a new
// worker accepts, it compiles every page, user control, master page and handler
// of the application, so that no user request pays for an ASP.NET compilation.
//
// The C host asks for it once per application, after the warm-up URLs, with a
// request through its own request path (native/warmup.c) whose query is
// "scgi-mono-precompile=TOKEN"; TOKEN is a random value of this worker process,
// in its environment (SCGI_MONO_PRECOMPILE_TOKEN), so a client cannot ask for
// it, and a domain answers it once (the access log shows the token, like any
// warm-up URL: it is good only for a domain that has not answered it, i.e. a
// lone worker's new domain after ASP.NET restarted the application in-process,
// where it compiles what the first requests would). The answer is one line of
// text/plain: the summary the C host logs. A file that does not compile is
// logged (a warning) and left for its first request, which gets ASP.NET's
// compilation error as it would without precompilation: the worker serves the
// others.
using System;
using System.Collections.Generic;
using System.CodeDom.Compiler;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Text;
using System.Web;
using System.Web.Compilation;
using System.Web.Configuration;

namespace ScgiMono
{
	internal static class Precompile
	{
		public const string TokenVariable = "SCGI_MONO_PRECOMPILE_TOKEN";
		const string QueryName = "scgi-mono-precompile=";

		// The query that asks for precompilation; null when this worker has no
		// precompiling application or once this domain answered it.
		static volatile string query = ReadQuery ();

		static string ReadQuery ()
		{
			string t = Environment.GetEnvironmentVariable (TokenVariable);
			return string.IsNullOrEmpty (t) || t.Length < 16 ? null : QueryName + t;
		}

		// Whether target is the host's precompilation request (cheap while
		// armed: a length and string comparison; one field read after).
		public static bool IsItsRequest (RequestTarget target)
		{
			string q = query;
			return q != null && target.QueryString.Length == q.Length && string.Equals (target.QueryString, q,
			                                                                            StringComparison.Ordinal);
		}

		// Compiles the application and answers the request on conn with the summary.
		public static int Serve (IntPtr conn, RequestVars vars, RequestTarget target, AppPaths paths)
		{
			query = null;
			int status = 200;
			string summary;
			try {
				summary = Run (vars, target, paths);
			} catch (Exception e) {
				status = 500;
				summary = "precompilation stopped: " + e.GetType ().Name + ": " + e.Message;
			}
			var wr = new ScgiWorkerRequest (vars, target, paths, new NativeSink (conn), IntPtr.Zero, 0);
			wr.SendStatus (status, status == 200 ? "OK" : "Internal Server Error");
			wr.SendUnknownResponseHeader ("Content-Type", "text/plain; charset=utf-8");
			byte[] b = Encoding.UTF8.GetBytes (summary.Replace ('\n', ' ') + "\n");
			wr.SendResponseFromMemory (b, b.Length);
			wr.FlushResponse (true);
			return RequestResult.Done;
		}

		static string Run (RequestVars vars, RequestTarget target, AppPaths paths)
		{
			var clock = Stopwatch.StartNew ();
			// A context of the host's own (its answer goes nowhere) for ASP.NET's
			// application start and for the parsers that ask HttpContext.Current.
			var start = new RequestTarget (paths.VirtualPath == "/" ? "/" : paths.VirtualPath + "/",
			                               paths.VirtualPath == "/" ? "/" : paths.VirtualPath + "/",
			                               new byte [0], target.ServerName);
			var context = new HttpContext (new ScgiWorkerRequest (vars, start, paths, new DiscardSink (),
			                                                      IntPtr.Zero, 0));
			HttpContext previous = HttpContext.Current;
			HttpContext.Current = context;
			try {
				string started = StartApplication (context);
				List<string> files = Files (paths);
				var dirs = new HashSet<string> ();
				foreach (string vp in files)
					dirs.Add (VirtualPathUtility.GetDirectory (vp));
				Dictionary<string, Exception> failed = Compile (files);
				// Mono 6.8: a batch that pulls in a dependency's directory (a
				// master page's, a user control's) also takes the files of that
				// directory not compiled yet; once the only one left there is a
				// file that does not compile, every such batch fails with its
				// error ("Single file build failed"). Files that failed in a batch
				// get one more try each alone (batch off for that pass).
				int retried = 0;
				if (failed.Count > 0 && SetBatch (false)) {
					try {
						retried = failed.Count;
						failed = Compile (new List<string> (failed.Keys));
					} finally {
						SetBatch (null);
					}
				}
				// Themes: a page with Theme or StyleSheetTheme compiles
				// App_Themes/NAME on its first request (Page.InitializeTheme asks
				// BuildManager for "~/App_Themes/NAME"): ask for each the same way.
				List<string> themes = Themes (paths);
				foreach (var f in Compile (themes))
					failed [f.Key] = f.Value;
				string help = null;
				if (files.Exists (f => f.EndsWith (".asmx", StringComparison.OrdinalIgnoreCase) && !failed.ContainsKey (f)))
					help = CompileServiceHelpPage (context);
				foreach (var f in failed)
					ServerLog.Write (ServerLog.Warn, "precompile: {0} does not compile ({1}); its requests get the " +
					                 "error", f.Key, Describe (f.Value));
				var what = new List<string> ();
				what.Add (string.Format ("{0} director{1}", dirs.Count, dirs.Count == 1 ? "y" : "ies"));
				if (themes.Count > 0)
					what.Add (string.Format ("{0} theme{1}", themes.Count, themes.Count == 1 ? "" : "s"));
				if (help != null)
					what.Add ("the web services' documentation page");
				if (retried > 0)
					what.Add (string.Format ("{0} tried again alone", retried));
				return string.Format ("{0} of {1} files compiled in {2:0.00} s ({3}){4}{5}",
				                      files.Count + themes.Count - failed.Count, files.Count + themes.Count,
				                      clock.Elapsed.TotalSeconds, string.Join (", ", what),
				                      failed.Count > 0 ? string.Format (", {0} did not compile (logged above)",
				                                                        failed.Count) : "",
				                      started);
			} finally {
				HttpContext.Current = previous;
			}
		}

		// Compiles each path (in batch mode, the first of a directory compiles
		// the directory); returns the ones that failed, with their exception.
		static Dictionary<string, Exception> Compile (List<string> files)
		{
			var failed = new Dictionary<string, Exception> ();
			foreach (string vp in files) {
				try {
					BuildManager.GetCompiledType (vp);
				} catch (Exception e) {
					failed [vp] = e;
				}
			}
			return failed;
		}

		// An .asmx answers a GET without ?wsdl (and the like) with a
		// documentation page, Mono's own DefaultWsdlHelpGenerator.aspx beside the
		// machine configuration, compiled on that first request: compile it the
		// way System.Web.Services' DocumentationServerProtocol asks for it (its
		// configuration's internal HelpGeneratorVirtualPath and HelpGeneratorPath,
		// PageParser.GetCompiledPageInstance), so that the request finds it built.
		// Returns its virtual path, or null (none; a failure is logged).
		static string CompileServiceHelpPage (HttpContext context)
		{
			try {
				Type section = Type.GetType ("System.Web.Services.Configuration.WebServicesSection, System.Web.Services, " +
				                             "Version=4.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a", false);
				PropertyInfo current = section == null ? null
					: section.GetProperty ("Current", BindingFlags.Public | BindingFlags.Static);
				object config = current == null ? null : current.GetValue (null, null);
				PropertyInfo generator = config == null ? null : config.GetType ().GetProperty ("WsdlHelpGenerator");
				object help = generator == null ? null : generator.GetValue (config, null);
				const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance;
				PropertyInfo vp = help == null ? null : help.GetType ().GetProperty ("HelpGeneratorVirtualPath", Internal);
				PropertyInfo pp = help == null ? null : help.GetType ().GetProperty ("HelpGeneratorPath", Internal);
				string vpath = vp == null ? null : vp.GetValue (help, null) as string;
				string physical = pp == null ? null : pp.GetValue (help, null) as string;
				if (string.IsNullOrEmpty (vpath) || string.IsNullOrEmpty (physical) || !File.Exists (physical))
					return null;
				System.Web.UI.PageParser.GetCompiledPageInstance (vpath, physical, context);
				return vpath;
			} catch (Exception e) {
				ServerLog.Write (ServerLog.Warn, "precompile: the web services' documentation page does not compile ({0})",
				                 Describe (e is TargetInvocationException && e.InnerException != null ? e.InnerException : e));
				return null;
			}
		}

		// BuildManager's private batchCompilationEnabled (null: the
		// configuration's <compilation batch>); false when System.Web has none.
		static bool SetBatch (bool? value)
		{
			FieldInfo f = typeof (BuildManager).GetField ("batchCompilationEnabled",
			                                              BindingFlags.NonPublic | BindingFlags.Static);
			if (f == null || f.FieldType != typeof (bool?))
				return false;
			f.SetValue (null, value);
			return true;
		}

		// ASP.NET starts an application (App_Code, App_GlobalResources,
		// Global.asax, Application_Start) in its first request, and the pages
		// compile against what that built: do it first, as that request would,
		// through HttpApplicationFactory.GetApplication (internal; then the
		// instance goes back to ASP.NET's pool). Returns "" or a note for the
		// summary.
		static string StartApplication (HttpContext context)
		{
			Type factory = typeof (HttpRuntime).Assembly.GetType ("System.Web.HttpApplicationFactory");
			MethodInfo get = factory == null ? null : factory.GetMethod ("GetApplication",
				BindingFlags.NonPublic | BindingFlags.Static, null, new [] { typeof (HttpContext) }, null);
			MethodInfo recycle = factory == null ? null : factory.GetMethod ("Recycle",
				BindingFlags.NonPublic | BindingFlags.Static, null, new [] { typeof (HttpApplication) }, null);
			if (get == null || recycle == null) {
				ServerLog.Write (ServerLog.Warn, "precompile: System.Web has no HttpApplicationFactory.GetApplication: " +
				                 "the pages are compiled before the application started (App_Code may be missing)");
				return "; the application was not started first";
			}
			try {
				var app = (HttpApplication) get.Invoke (null, new object [] { context });
				if (app != null)
					recycle.Invoke (null, new object [] { app });
				return "";
			} catch (TargetInvocationException e) {
				Exception x = e.InnerException ?? e;
				ServerLog.Write (ServerLog.Warn, "precompile: the application did not start ({0}); its pages are " +
				                 "compiled anyway", Describe (x));
				return "; the application did not start (logged above)";
			}
		}

		// The extensions whose build providers make a type for a URL
		// (BuildProviderAppliesTo.Web only: .aspx .ascx .master .ashx .asmx and
		// an application's own), from the compilation configuration.
		static HashSet<string> Extensions ()
		{
			var r = new HashSet<string> (StringComparer.OrdinalIgnoreCase);
			var cs = WebConfigurationManager.GetWebApplicationSection ("system.web/compilation") as CompilationSection;
			if (cs == null)
				return r;
			Assembly web = typeof (HttpRuntime).Assembly;
			foreach (System.Web.Configuration.BuildProvider p in cs.BuildProviders) {
				if (string.IsNullOrEmpty (p.Extension) || string.IsNullOrEmpty (p.Type))
					continue;
				Type t = null;
				try {
					t = Type.GetType (p.Type, false) ?? web.GetType (p.Type, false);
				} catch (Exception) {
				}
				var a = t == null ? null : (BuildProviderAppliesToAttribute) Attribute.GetCustomAttribute (
					t, typeof (BuildProviderAppliesToAttribute), true);
				if (a != null && a.AppliesTo == BuildProviderAppliesTo.Web)
					r.Add (p.Extension.StartsWith (".") ? p.Extension : "." + p.Extension);
			}
			return r;
		}

		// Directories never served or compiled as pages: bin/, App_Data/ and
		// ASP.NET's other App_ folders (App_Code and App_GlobalResources are built
		// at the application's start), hidden ones, and symbolic links (no loops).
		static bool Skipped (string name)
		{
			return name.StartsWith (".") || string.Equals (name, "bin", StringComparison.OrdinalIgnoreCase) ||
				name.StartsWith ("App_", StringComparison.OrdinalIgnoreCase);
		}

		// "~/App_Themes/NAME" for each theme directory of the application.
		static List<string> Themes (AppPaths paths)
		{
			var r = new List<string> ();
			string dir = Path.Combine (paths.PhysicalPath, "App_Themes");
			if (!Directory.Exists (dir))
				return r;
			string[] names = Directory.GetDirectories (dir);
			Array.Sort (names, StringComparer.Ordinal);
			foreach (string d in names) {
				string name = Path.GetFileName (d);
				if (!name.StartsWith ("."))
					r.Add ("~/App_Themes/" + name);
			}
			return r;
		}

		// Every compilable file's virtual path, directory by directory (ASP.NET
		// compiles a directory's files together when <compilation batch> is on,
		// its default), in a stable order.
		static List<string> Files (AppPaths paths)
		{
			HashSet<string> ext = Extensions ();
			var r = new List<string> ();
			var todo = new Stack<KeyValuePair<string, string>> ();
			todo.Push (new KeyValuePair<string, string> (paths.PhysicalPath.TrimEnd ('/'),
			                                             paths.VirtualPath == "/" ? "" : paths.VirtualPath));
			while (todo.Count > 0) {
				var d = todo.Pop ();
				string[] files, dirs;
				try {
					files = Directory.GetFiles (d.Key);
					dirs = Directory.GetDirectories (d.Key);
				} catch (Exception e) {
					ServerLog.Write (ServerLog.Warn, "precompile: cannot list {0}: {1}", d.Key, e.Message);
					continue;
				}
				Array.Sort (files, StringComparer.Ordinal);
				foreach (string f in files) {
					string name = Path.GetFileName (f);
					if (!name.StartsWith (".") && ext.Contains (Path.GetExtension (name)))
						r.Add (d.Value + "/" + name);
				}
				Array.Sort (dirs, StringComparer.Ordinal);
				for (int i = dirs.Length - 1; i >= 0; i--) {
					string name = Path.GetFileName (dirs [i]);
					if (Skipped (name) || (File.GetAttributes (dirs [i]) & FileAttributes.ReparsePoint) != 0)
						continue;
					todo.Push (new KeyValuePair<string, string> (dirs [i], d.Value + "/" + name));
				}
			}
			return r;
		}

		// The compiler's first error (file, line, number, text) or the parser's
		// message, from the exception or the ones inside it.
		static string Describe (Exception e)
		{
			for (Exception x = e; x != null; x = x.InnerException) {
				PropertyInfo p = x.GetType ().GetProperty ("Results", BindingFlags.Public | BindingFlags.Instance);
				var results = p == null ? null : p.GetValue (x, null) as CompilerResults;
				if (results != null)
					foreach (CompilerError ce in results.Errors)
						if (!ce.IsWarning)
							return string.Format ("{0}({1}): error {2}: {3}", Path.GetFileName (ce.FileName), ce.Line,
							                      ce.ErrorNumber, ce.ErrorText);
			}
			Exception inner = e;
			while (inner.InnerException != null && (inner is HttpException || inner is TargetInvocationException))
				inner = inner.InnerException;
			return inner.GetType ().Name + ": " + inner.Message;
		}

		// Where the answer of the host's own application-start context goes.
		sealed class DiscardSink : IResponseSink
		{
			public void SendHeaders (int status, string reason, IList<string> headers)
			{
			}

			public void SendBody (byte[] data, int offset, int length)
			{
			}

			public unsafe void SendBody (byte* data, int length)
			{
			}

			public bool SendFile (IntPtr fd, long offset, long length)
			{
				return false;
			}

			public void Flush (bool final)
			{
			}

			public bool IsConnected {
				get { return true; }
			}

			public void CloseConnection ()
			{
			}
		}
	}
}
