// The entry points the C host calls: Bootstrap (root domain) creates an
// application's AppDomain through ASP.NET's ApplicationHost; Entry.Process runs in
// that domain, once per request, with the whole request in its arguments.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Reflection.Emit;
using System.Threading;
using System.Web;
using System.Web.Configuration;
using System.Web.Hosting;

namespace ScgiMono
{
	public static class Bootstrap
	{
		// Called by C in the root domain. The new domain reports itself to C
		// (Native.DomainReady) from AppHost.Init, running inside it.
		// sendfile: 0 off, 1 X-Sendfile, 2 X-Accel-Redirect (with accelPrefix), from
		// the application's group in scgi-mono.conf. supervised: 1 when the worker
		// runs under the supervisor, which replaces the whole process on an
		// application change (see Entry.LeaveRestartsToSupervisor).
		public static void CreateApp (string virtualPath, string physicalPath, IntPtr gen, int sendfile,
		                              string accelPrefix, int supervised)
		{
			var host = (AppHost) ApplicationHost.CreateApplicationHost (typeof (AppHost), virtualPath, physicalPath);
			host.Init (gen, virtualPath, physicalPath, sendfile, accelPrefix, supervised != 0);
		}
	}

	// Lives in the application's AppDomain. Only Init crosses domains (once, at
	// start); requests enter through Entry.Process with no remoting.
	public sealed class AppHost : MarshalByRefObject
	{
		public override object InitializeLifetimeService ()
		{
			return null; // never collected by remoting leases
		}

		public void Init (IntPtr gen, string virtualPath, string physicalPath, int sendfile, string accelPrefix,
		                  bool supervised)
		{
			if (supervised)
				Entry.LeaveRestartsToSupervisor ();
			Entry.Start (gen, virtualPath, physicalPath, (FrontEndSendfile) sendfile, accelPrefix);
		}
	}

	public static class Entry
	{
		static AppPaths paths;
		static IntPtr generation;
		static Timer schedulerTick;
		static FrontEndSendfile sendfile;
		static string accelPrefix;
		static bool supervised;
		static int unloadReported;

		// HttpRuntime's private static domainUnloading: set by UnloadAppDomain
		// (user code, ASP.NET's file watchers, app_offline.htm, recompilations)
		// before the domain goes; Mono 6.8 then drops, without ending them, the
		// requests that enter (RealProcessRequest prints "Domain is unloading, not
		// processing the request" and returns). Read by a method compiled once
		// (a reflection read per request would box); false without the field.
		static readonly Func<bool> DomainUnloading = UnloadingReader ();

		static Func<bool> UnloadingReader ()
		{
			FieldInfo f = typeof (HttpRuntime).GetField ("domainUnloading", BindingFlags.NonPublic | BindingFlags.Static);
			if (f == null || f.FieldType != typeof (bool)) {
				ServerLog.Write (ServerLog.Warn, "System.Web has no HttpRuntime.domainUnloading: a request that " +
				                         "enters an unloading AppDomain is not run again in a fresh one");
				return () => false;
			}
			try {
				var m = new DynamicMethod ("ReadDomainUnloading", typeof (bool), Type.EmptyTypes, typeof (Entry), true);
				ILGenerator il = m.GetILGenerator ();
				il.Emit (OpCodes.Ldsfld, f);
				il.Emit (OpCodes.Ret);
				var read = (Func<bool>) m.CreateDelegate (typeof (Func<bool>));
				read ();
				return read;
			} catch (Exception e) {
				ServerLog.Write (ServerLog.Warn, "HttpRuntime.domainUnloading read by reflection ({0})", e.Message);
				return () => (bool) f.GetValue (null);
			}
		}

		// How often a request waiting for ASP.NET to end it checks whether the
		// domain began unloading (and the request will never be run).
		const int UnloadPollMs = 100;

		internal static void Start (IntPtr gen, string virtualPath, string physicalPath, FrontEndSendfile mode,
		                            string prefix)
		{
			generation = gen;
			sendfile = mode;
			accelPrefix = prefix;
			paths = new AppPaths (virtualPath, physicalPath, HandlerMap.FromConfiguration ());
			AppDomain.CurrentDomain.DomainUnload += OnDomainUnload;
			// ASP.NET starts a System.Threading.Timer per request (due after
			// executionTimeout, 110 s by default) and disposes it at the end. Mono
			// 6.8's timer scheduler only marks a disposed timer dead; it drops it
			// when its loop next runs, which is when the earliest timer is due. Every
			// finished request's HttpContext then stays reachable for 110 s: at a few
			// thousand requests/s, gigabytes. A timer due every second keeps the loop
			// running, so dead timers (and their requests) go within a second.
			schedulerTick = new Timer (delegate { CheckUnloading (); }, null, 1000, 1000);
			OpenLocations (virtualPath, physicalPath);
			Native.DomainReady (gen, ReadApacheStatus ());
		}

		// Mono 6.8 opens a <location path="..."> element's configuration on the
		// first lookup of a path under it (ConfigurationLocation.OpenConfiguration),
		// without a lock: two first requests at once under one location both read
		// it into the same object, and one gets 500 "The section <authorization>
		// is defined more than once" (or ArgumentNullException "s") from
		// FormsAuthenticationModule/UrlAuthorizationModule. Found by the
		// cross-host test (forms authentication behind <location>, concurrent
		// users on a fresh worker). Opening every location of the root web.config
		// here, on one thread before the domain takes requests, leaves nothing
		// there to open concurrently: Mono keeps them opened.
		const int MaxConfigDirs = 5000;
		// Subdirectories' web.config files are not opened ahead: opening an ASP.NET
		// MVC application's Views/web.config that way made its pages answer 500 (test_96).
		static readonly bool OnlyRoot = true;

		static void OpenLocations (string virtualPath, string physicalPath)
		{
			int dirs = 0, opened = 0;
			string root = HttpRuntime.AppDomainAppVirtualPath ?? virtualPath;
			var pending = new Stack<KeyValuePair<string, string>> ();
			pending.Push (new KeyValuePair<string, string> (root.Length > 1 ? root.TrimEnd ('/') : root, physicalPath));
			while (pending.Count > 0 && dirs++ < MaxConfigDirs) {
				var d = pending.Pop ();
				string vdir = d.Key, pdir = d.Value;
				try {
					if (File.Exists (Path.Combine (pdir, "web.config")))
						opened += Open (vdir);
					if (OnlyRoot)
						continue;
					foreach (string sub in Directory.GetDirectories (pdir)) {
						string name = Path.GetFileName (sub);
						if (name.StartsWith (".", StringComparison.Ordinal) ||
						    string.Equals (name, "bin", StringComparison.OrdinalIgnoreCase) ||
						    string.Equals (name, "App_Data", StringComparison.OrdinalIgnoreCase) ||
						    (File.GetAttributes (sub) & FileAttributes.ReparsePoint) != 0)
							continue;
						pending.Push (new KeyValuePair<string, string> ((vdir == "/" ? "" : vdir) + "/" + name, sub));
					}
				} catch (Exception e) {
					ServerLog.Write (ServerLog.Debug, "configuration of {0} not opened ahead: {1}", vdir, e.Message);
				}
			}
			if (opened > 0)
				ServerLog.Write (ServerLog.Info, "configuration: {0} location(s) opened ahead", opened);
		}

		// The configuration of the directory vdir (the key WebConfigurationManager
		// caches it under: the directory's virtual path, no trailing slash but
		// the root's), and every <location> in it.
		static int Open (string vdir)
		{
			int n = 0;
			try {
				System.Configuration.Configuration c = WebConfigurationManager.OpenWebConfiguration (vdir);
				foreach (System.Configuration.ConfigurationLocation l in c.Locations) {
					try {
						l.OpenConfiguration ();
						n++;
					} catch (Exception e) {
						// a broken element: its requests say so, as they would anyway
						ServerLog.Write (ServerLog.Debug, "location {0} of {1} not opened ahead: {2}", l.Path, vdir, e.Message);
					}
				}
			} catch (Exception e) {
				ServerLog.Write (ServerLog.Debug, "configuration of {0} not opened ahead: {1}", vdir, e.Message);
			}
			return n;
		}

		// ASP.NET restarts an application in-process (unloads its AppDomain, the
		// next request makes a new one) when web.config, Global.asax, bin/*.dll or
		// App_Code/, App_Browsers/, App_GlobalResources/ change. Mono 6.8's
		// AppDomain unloading hangs the worker under load ("Domain is unloading,
		// not processing the request"), so under the supervisor, which watches the
		// same files and replaces the worker process overlapped, those watchers
		// must not act. System.Web's HttpApplicationFactory.OnFileChanged returns
		// at once while its private static app_shutdown is true (it is set on the
		// first change, so that one change restarts once): set it before any
		// request. Without the field (another System.Web), ASP.NET keeps its own
		// behaviour and the log says so. Other unloads (HttpRuntime.UnloadAppDomain
		// from user code, app_offline.htm, too many recompilations) still happen:
		// OnDomainUnload then asks the supervisor for a new worker.
		internal static void LeaveRestartsToSupervisor ()
		{
			// HttpRuntime.UnloadAppDomain sets domainUnloading at once, then queues
			// the unload on the thread pool (the DomainUnload event comes later,
			// or not at all when the pool is busy): seen within a second by the
			// scheduler tick (Start), which asks for a replacement then.
			supervised = true;
			Type factory = typeof (HttpRuntime).Assembly.GetType ("System.Web.HttpApplicationFactory");
			FieldInfo f = factory == null ? null
				: factory.GetField ("app_shutdown", BindingFlags.NonPublic | BindingFlags.Static);
			if (f == null || f.FieldType != typeof (bool)) {
				ServerLog.Write (ServerLog.Warn, "System.Web has no HttpApplicationFactory.app_shutdown: ASP.NET " +
				                         "restarts this application in-process when its files change");
				return;
			}
			f.SetValue (null, true);
		}

		static void CheckUnloading ()
		{
			if (supervised && DomainUnloading () && Interlocked.Exchange (ref unloadReported, 1) == 0)
				Native.UnloadStarted (generation);
		}

		// web.config appSetting MonoServerApacheStatus: "true" -> 1, "false" -> 0,
		// absent or unreadable -> -1 (the server default). Read once per AppDomain.
		static int ReadApacheStatus ()
		{
			try {
				string v = WebConfigurationManager.AppSettings ["MonoServerApacheStatus"];
				bool b;
				if (v != null && bool.TryParse (v.Trim (), out b))
					return b ? 1 : 0;
			} catch (Exception e) {
				ServerLog.Write (ServerLog.Warn, "cannot read MonoServerApacheStatus from web.config: {0}", e.Message);
			}
			return -1;
		}

		// ASP.NET unloads the domain when web.config or bin/ changes. Tell C to
		// send new requests elsewhere, then wait for the ones inside to finish
		// before letting Mono tear the domain down.
		static void OnDomainUnload (object sender, EventArgs e)
		{
			schedulerTick.Dispose ();
			Native.DomainUnloading (generation);
			for (int waited = 0; Native.InFlight (generation) > 0 && waited < 30000; waited += 10)
				Thread.Sleep (10);
			Native.DomainGone (generation);
		}

		// One request. flags: RequestFlags (from native/reqflags.h). PlainHttp:
		// the client speaks plain HTTP (no front end); the C host frames the
		// response accordingly, ASP.NET sees no difference. BodySpooled: the body
		// (bodyLen bytes) is not in memory at body but in the C host's temporary
		// file; it is read through Native.ReadBody. route: the C host's decision
		// about the URL (RequestTarget); the request was already refused there if
		// its URL is invalid or names a private file. Returns a RequestResult
		// (from native/reqflags.h): Done, or DomainUnloading when ASP.NET is
		// unloading this domain and did not run the request (nothing of its
		// response was sent; the C host runs it again in a fresh domain).
		public static int Process (IntPtr conn, IntPtr vars, int varsLen, IntPtr body, int bodyLen, int flags,
		                           IntPtr route, int routeLen)
		{
			if (DomainUnloading ())
				return RequestResult.DomainUnloading;
			var sink = new NativeSink (conn);
			RequestVars rv = RequestVars.FromNative (vars, varsLen);
			RequestTarget target = RequestTarget.FromNative (route, routeLen);
			if (Precompile.IsItsRequest (target)) // the host's own, at warm-up (see Precompile.cs)
				return Precompile.Serve (conn, rv, target, paths);
			var wr = new ScgiWorkerRequest (rv, target, paths, sink,
			                                body, bodyLen, (flags & RequestFlags.BodySpooled) != 0 ? sink : null);
			if ((flags & RequestFlags.PlainHttp) == 0) // a front end is there to take files over
				wr.SetFrontEndSendfile (sendfile, accelPrefix);
			// A static file (no handler takes its name) followed by more path is not
			// the file: 404, as IIS and Mono's own servers answer.
			if (paths.IsStaticFileWithPathInfo (wr.GetFilePath (), wr.GetPathInfo ())) {
				wr.SendNotFound ();
				return RequestResult.Done;
			}
			if (wr.NeedsSlashRedirect) {
				wr.SendSlashRedirect ();
				return RequestResult.Done;
			}
			// ProcessRequest may run another request queued earlier and queue
			// this one (run later on a pool thread, or dropped if the domain
			// unloads first): wait for its end, but not for one that will never
			// come (see WaitForEndOrAbandon). This also frees the threads that
			// were already waiting when the unload began.
			HttpRuntime.ProcessRequest (wr);
			return wr.WaitForEndOrAbandon (DomainUnloading, UnloadPollMs)
				? RequestResult.Done : RequestResult.DomainUnloading;
		}
	}
}
