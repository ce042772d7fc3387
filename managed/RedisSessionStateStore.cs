// ASP.NET session state in Redis: <sessionState mode="Custom" customProvider="redis">
// with <add name="redis" type="ScgiMono.RedisSessionStateStore, ScgiMono" .../>
// (attributes in Initialize; README "Session state in Redis").
//
// One Redis hash per session, key = keyPrefix + session id:
//   data      SessionStateItemCollection.Serialize + HttpStaticObjectsCollection.Serialize
//   timeout   the session timeout in minutes; the key expires that long after
//             its last access (every access sets PEXPIRE: sliding expiry)
//   lockid    the id of the last exclusive lock (kept after release, as InProc
//             keeps it: SessionStateModule releases before RemoveItem on Abandon)
//   locktime  present while locked: when the lock was taken, in Redis' clock
//             (one clock for every server, so lockAge means the same everywhere)
//   init      present for an item made by CreateUninitializedItem
// Each operation is one Lua script (EVALSHA), so "test and take the lock" and
// "write if the lock is still ours" are atomic in Redis.
//
// Locks as ASP.NET's: GetItemExclusive (read-write pages) takes the lock;
// GetItem (EnableSessionState="ReadOnly") takes none but, like InProc, waits
// while a writer holds one. Unlike the InProc handler we wait here, polling
// Redis, instead of returning locked=true: Mono's SessionStateModule then polls
// from a System.Threading.Timer callback, where an exception (Redis gone) is
// unhandled and ends the process. A lock older than executionTimeout is broken
// (released by its id, then taken), which is what the module does with lockAge.
//
// A lock also has a lease: while a request holds it, a thread of the holder's
// process renews 'lockseen' (Redis' clock) every lockLease/3; a lock not
// renewed for lockLease is dead (its process was killed or lost Redis) and is
// taken over at once. Without it, a server killed while its requests held
// locks would keep those sessions locked for executionTimeout, and Mono aborts
// a waiting request at its own executionTimeout ("The request timed out", 500)
// before it can break a lock taken just before it arrived.
//
// Redis down or slow: every wait is bounded (connectTimeout, operationTimeout);
// the failure is one log line and HttpException 503 (Unavailable, the one place
// that decides it). Pages without session state never call the provider.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Configuration.Provider;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Web;
using System.Web.Configuration;
using System.Web.SessionState;

namespace ScgiMono
{
	public sealed class RedisSessionStateStore : SessionStateStoreProviderBase
	{
		const string GetScript = @"
local h = redis.call('HMGET', KEYS[1], 'data', 'timeout', 'locktime', 'lockid', 'init', 'lockseen')
if not h[2] then return {0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if h[3] then
  local lease = tonumber(ARGV[3])
  if lease <= 0 or now - tonumber(h[6] or h[3]) <= lease then return {1, h[4] or '', now - tonumber(h[3])} end
  redis.call('HDEL', KEYS[1], 'locktime', 'lockid', 'lockseen')
end
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'locktime', now, 'lockid', ARGV[2], 'lockseen', now) end
redis.call('PEXPIRE', KEYS[1], tonumber(h[2]) * 60000)
return {2, h[1] or false, h[2], h[5] or false}";

		const string SetReleaseScript = @"
if redis.call('HGET', KEYS[1], 'lockid') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'timeout', ARGV[3])
redis.call('HDEL', KEYS[1], 'locktime', 'lockseen', 'init')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 60000)
return 1";

		const string InsertScript = @"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'timeout', ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 60000)
return 1";

		const string ReleaseScript = @"
if redis.call('HGET', KEYS[1], 'lockid') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'locktime', 'lockseen')
local t = redis.call('HGET', KEYS[1], 'timeout')
if t then redis.call('PEXPIRE', KEYS[1], tonumber(t) * 60000) end
return 1";

		const string RemoveScript = @"
if redis.call('HGET', KEYS[1], 'lockid') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])";

		const string TouchScript = @"
local t = redis.call('HGET', KEYS[1], 'timeout')
if not t then return 0 end
return redis.call('PEXPIRE', KEYS[1], tonumber(t) * 60000)";

		const string RenewScript = @"
if redis.call('HGET', KEYS[1], 'lockid') ~= ARGV[1] or not redis.call('HGET', KEYS[1], 'locktime') then return 0 end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'lockseen', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return 1";

		const string UninitializedScript = @"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'timeout', ARGV[1], 'init', '1')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 60000)
return 1";

		static readonly RedisScript Get = new RedisScript (GetScript);
		static readonly RedisScript SetRelease = new RedisScript (SetReleaseScript);
		static readonly RedisScript Insert = new RedisScript (InsertScript);
		static readonly RedisScript Release = new RedisScript (ReleaseScript);
		static readonly RedisScript Remove = new RedisScript (RemoveScript);
		static readonly RedisScript Touch = new RedisScript (TouchScript);
		static readonly RedisScript Uninitialized = new RedisScript (UninitializedScript);
		static readonly RedisScript Renew = new RedisScript (RenewScript);

		static readonly byte[] Zero = { (byte) '0' };
		static readonly byte[] One = { (byte) '1' };

		// Set in context.Items when this request already refreshed the session's
		// expiry (GetItem, SetAndReleaseItemExclusive): ResetItemTimeout, which
		// the module calls after them, then costs no round trip.
		const string TouchedKey = "ScgiMono.RedisSession.Touched";

		RedisPool pool;
		string keyPrefix;
		TimeSpan executionTimeout = TimeSpan.FromSeconds (110);
		int lockLeaseMs = 3000;
		byte[] lockLeaseArg = Ascii ("3000");

		public string KeyPrefix { get { return keyPrefix; } }

		// Attributes of <add>: host (127.0.0.1), port (6379), database (0),
		// password (none), keyPrefix ("aspnet-session:" + the application's
		// virtual path + ":"), connectTimeout, operationTimeout (ms, 2000 each),
		// retryInterval (ms, 500: after a failed connect, fail at once for this long),
		// lockLease (ms, 3000; 0: a lock is broken only after executionTimeout).
		public override void Initialize (string name, NameValueCollection config)
		{
			if (config == null)
				config = new NameValueCollection ();
			if (string.IsNullOrEmpty (name))
				name = "RedisSessionStateStore";
			var cfg = new RedisSettings ();
			cfg.Host = Take (config, "host") ?? cfg.Host;
			cfg.Port = Int (config, "port", cfg.Port, 1, 65535);
			cfg.Database = Int (config, "database", 0, 0, 1 << 20);
			cfg.Password = Take (config, "password");
			cfg.ConnectTimeoutMs = Int (config, "connectTimeout", cfg.ConnectTimeoutMs, 1, 600000);
			cfg.OperationTimeoutMs = Int (config, "operationTimeout", cfg.OperationTimeoutMs, 1, 600000);
			cfg.RetryIntervalMs = Int (config, "retryInterval", cfg.RetryIntervalMs, 0, 600000);
			lockLeaseMs = Int (config, "lockLease", lockLeaseMs, 0, 3600000);
			if (lockLeaseMs > 0 && lockLeaseMs < 300)
				throw new ProviderException ("RedisSessionStateStore: lockLease=\"" + lockLeaseMs +
				                             "\" is too short to be renewed (at least 300 ms, or 0: no lease)");
			lockLeaseArg = Ascii (lockLeaseMs.ToString (CultureInfo.InvariantCulture));
			keyPrefix = Take (config, "keyPrefix") ?? ("aspnet-session:" + (HttpRuntime.AppDomainAppVirtualPath ?? "/") + ":");
			config.Remove ("name");
			config.Remove ("type");
			config.Remove ("description");
			if (config.Count > 0)
				throw new ProviderException ("RedisSessionStateStore: unknown attribute '" + config.GetKey (0) + "'");
			base.Initialize (name, config);
			var runtime = WebConfigurationManager.GetSection ("system.web/httpRuntime") as HttpRuntimeSection;
			if (runtime != null)
				executionTimeout = runtime.ExecutionTimeout;
			pool = RedisPool.For (cfg);
		}

		static string Take (NameValueCollection c, string key)
		{
			string v = c [key];
			c.Remove (key);
			return v;
		}

		static int Int (NameValueCollection c, string key, int def, int min, int max)
		{
			string v = Take (c, key);
			if (v == null)
				return def;
			int n;
			if (!int.TryParse (v.Trim (), NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < min || n > max)
				throw new ProviderException (string.Format ("RedisSessionStateStore: {0}=\"{1}\" is not a number in [{2}, {3}]",
				                                            key, v, min, max));
			return n;
		}

		// ---- failures ----

		static int lastLogTick = Environment.TickCount - 60000;
		static int suppressed;

		// The one rule for a store that cannot serve: a log line (at most one a
		// second, counting the ones left out) and 503 Service Unavailable, which
		// HttpApplication turns into the response's status.
		HttpException Unavailable (string op, Exception e)
		{
			int now = Environment.TickCount;
			if (unchecked (now - lastLogTick) >= 1000) {
				lastLogTick = now;
				int n = Interlocked.Exchange (ref suppressed, 0);
				ServerLog.Write (ServerLog.Warn, "session state unavailable ({0}): {1}: 503{2}", op, e.Message,
				                         n > 0 ? " (" + n + " more since the last line)" : "");
			} else {
				Interlocked.Increment (ref suppressed);
			}
			return new HttpException (503, "Session state store unavailable: " + e.Message, e);
		}

		RespValue Run (string op, RedisScript script, string id, params byte[][] args)
		{
			try {
				return script.Run (pool, Encoding.UTF8.GetBytes (keyPrefix + id), args);
			} catch (RedisUnavailableException e) {
				throw Unavailable (op, e);
			} catch (RedisErrorException e) {
				throw Unavailable (op, e);
			} catch (RespProtocolException e) {
				throw Unavailable (op, e);
			}
		}

		// Locks this process may have left taken: a command that timed out
		// (Redis stopped or slow) may still run when Redis answers again, and a
		// release may have failed. Released by their ids when a request finds its
		// session locked, instead of that request waiting for executionTimeout.
		// (Another server's orphans are broken after executionTimeout, as ASP.NET does.)
		static readonly ConcurrentQueue<KeyValuePair<string, string>> orphans =
			new ConcurrentQueue<KeyValuePair<string, string>> ();
		const int MaxOrphans = 1000;

		static void Orphaned (string id, string lockId)
		{
			if (orphans.Count < MaxOrphans)
				orphans.Enqueue (new KeyValuePair<string, string> (id, lockId));
		}

		void ReleaseOrphans ()
		{
			var kept = new List<KeyValuePair<string, string>> ();
			KeyValuePair<string, string> o;
			try {
				while (orphans.TryDequeue (out o)) {
					kept.Add (o);
					Run ("ReleaseItemExclusive", Release, o.Key, Ascii (o.Value));
					kept.RemoveAt (kept.Count - 1);
				}
			} finally {
				foreach (var k in kept)
					orphans.Enqueue (k);
			}
		}

		// ---- lock leases ----

		// The locks this AppDomain's requests hold, by lock id, and the thread
		// that renews them: every lease/3 for each, so a lock is never seen dead
		// while its request runs (unless this process stalls for a whole lease).
		sealed class Held
		{
			public RedisPool Pool;
			public byte[] Key, LockId;
			public int LeaseMs;
			public int Renewed; // Environment.TickCount of the taking or the last renewal
		}

		static readonly ConcurrentDictionary<string, Held> held = new ConcurrentDictionary<string, Held> ();
		static readonly object renewerLock = new object ();
		static Thread renewer;

		void Hold (string id, string lockId)
		{
			if (lockLeaseMs <= 0)
				return;
			held [lockId] = new Held { Pool = pool, Key = Encoding.UTF8.GetBytes (keyPrefix + id), LockId = Ascii (lockId),
			                           LeaseMs = lockLeaseMs, Renewed = Environment.TickCount };
			if (renewer == null) {
				lock (renewerLock) {
					if (renewer == null) {
						var t = new Thread (RenewLoop);
						t.IsBackground = true;
						t.Name = "scgi-mono session lock leases";
						t.Start ();
						renewer = t;
					}
				}
			}
		}

		static void Unhold (string lockId)
		{
			Held h;
			held.TryRemove (lockId, out h);
		}

		static void RenewLoop ()
		{
			while (true) {
				int sleep = 1000;
				foreach (var e in held) {
					Held h = e.Value;
					int every = Math.Max (h.LeaseMs / 3, 100);
					int due = every - unchecked (Environment.TickCount - h.Renewed);
					if (due <= 0) {
						h.Renewed = Environment.TickCount;
						try {
							if (held.ContainsKey (e.Key))
								Renew.Run (h.Pool, h.Key, h.LockId);
						} catch (Exception) {
							// Redis down or slow: the request itself gets its 503; the
							// lease lapses, which is what a lock of a lost holder should do
						}
						due = every;
					}
					sleep = Math.Min (sleep, Math.Max (due, 10));
				}
				Thread.Sleep (sleep);
			}
		}

		// SessionIDManager already refuses ids that are not its own format; a
		// provider can still be called with null (no cookie) or anything by
		// another ISessionIDManager: those name no session.
		static bool Usable (string id)
		{
			return !string.IsNullOrEmpty (id) && id.Length <= SessionIDManager.SessionIDMaxLength;
		}

		static byte[] Ascii (string s)
		{
			return Encoding.ASCII.GetBytes (s);
		}

		// ---- reads ----

		public override SessionStateStoreData GetItem (HttpContext context, string id, out bool locked,
		                                               out TimeSpan lockAge, out object lockId,
		                                               out SessionStateActions actions)
		{
			return Read (context, id, false, out locked, out lockAge, out lockId, out actions);
		}

		public override SessionStateStoreData GetItemExclusive (HttpContext context, string id, out bool locked,
		                                                        out TimeSpan lockAge, out object lockId,
		                                                        out SessionStateActions actions)
		{
			return Read (context, id, true, out locked, out lockAge, out lockId, out actions);
		}

		SessionStateStoreData Read (HttpContext context, string id, bool exclusive, out bool locked,
		                            out TimeSpan lockAge, out object lockId, out SessionStateActions actions)
		{
			locked = false;
			lockAge = TimeSpan.Zero;
			lockId = null;
			actions = SessionStateActions.None;
			if (!Usable (id))
				return null;
			string newLock = exclusive ? Guid.NewGuid ().ToString ("N") : "";
			int pollMs = 2;
			DateTime giveUp = DateTime.UtcNow + executionTimeout + executionTimeout;
			bool drained = false;
			while (true) {
				RespValue r;
				try {
					r = Run (exclusive ? "GetItemExclusive" : "GetItem", Get, id, exclusive ? One : Zero, Ascii (newLock),
					         lockLeaseArg);
				} catch (HttpException) {
					if (exclusive) // Redis may still run the script once it answers again
						Orphaned (id, newLock);
					throw;
				}
				if (r.Kind != RespKind.Array || r.Items.Length == 0)
					throw Unavailable ("GetItem", new RespProtocolException ("unexpected reply to the read script"));
				long state = r.Items [0].AsInteger ();
				if (state == 0)
					return null; // no such session (expired, removed, never existed)
				if (state == 2) {
					if (exclusive) {
						lockId = newLock;
						Hold (id, newLock);
					}
					if (context != null)
						context.Items [TouchedKey] = id;
					int timeout = (int) r.Items [2].AsInteger ();
					if (!r.Items [3].IsNull)
						actions = SessionStateActions.InitializeItem;
					return Deserialize (context, r.Items [1].IsNull ? null : r.Items [1].Bytes, timeout);
				}
				// Locked by another request.
				string holder = r.Items [1].AsString ();
				TimeSpan age = TimeSpan.FromMilliseconds (r.Items [2].AsInteger ());
				if (!drained && !orphans.IsEmpty) {
					drained = true; // perhaps a lock of this process, left by a failure
					ReleaseOrphans ();
					continue;
				}
				if (age > executionTimeout) {
					// As SessionStateModule does with lockAge: the holder ran longer
					// than any request may; break its lock (by its id, so a release
					// that comes in between is not undone) and try again.
					Run ("ReleaseItemExclusive", Release, id, Encoding.UTF8.GetBytes (holder));
					continue;
				}
				if (DateTime.UtcNow > giveUp)
					throw Unavailable ("GetItem", new TimeoutException ("session " + id + " stayed locked"));
				Thread.Sleep (pollMs);
				pollMs = Math.Min (pollMs * 2, 50);
			}
		}

		// ---- writes ----

		public override void SetAndReleaseItemExclusive (HttpContext context, string id, SessionStateStoreData item,
		                                                  object lockId, bool newItem)
		{
			if (!Usable (id))
				return;
			int timeout = item != null ? item.Timeout : 20;
			byte[] data = Serialize (item);
			byte[] t = Ascii (timeout.ToString (CultureInfo.InvariantCulture));
			if (newItem) {
				Run ("SetAndReleaseItemExclusive", Insert, id, data, t);
			} else {
				string l = lockId as string;
				if (l == null)
					return; // not a lock of ours: nothing may be written
				try {
					Unhold (l);
					Run ("SetAndReleaseItemExclusive", SetRelease, id, Ascii (l), data, t);
				} catch (HttpException) {
					Orphaned (id, l);
					throw;
				}
			}
			if (context != null)
				context.Items [TouchedKey] = id;
		}

		public override void ReleaseItemExclusive (HttpContext context, string id, object lockId)
		{
			string l = lockId as string;
			if (!Usable (id) || l == null) // read-only requests hold no lock
				return;
			Unhold (l);
			Run ("ReleaseItemExclusive", Release, id, Ascii (l));
		}

		public override void RemoveItem (HttpContext context, string id, object lockId, SessionStateStoreData item)
		{
			string l = lockId as string;
			if (!Usable (id) || l == null)
				return;
			Unhold (l);
			Run ("RemoveItem", Remove, id, Ascii (l));
		}

		public override void ResetItemTimeout (HttpContext context, string id)
		{
			if (!Usable (id))
				return;
			if (context != null && (context.Items [TouchedKey] as string) == id)
				return; // refreshed by this request's read or write already
			Run ("ResetItemTimeout", Touch, id);
		}

		public override void CreateUninitializedItem (HttpContext context, string id, int timeout)
		{
			if (!Usable (id))
				return;
			Run ("CreateUninitializedItem", Uninitialized, id, Ascii (timeout.ToString (CultureInfo.InvariantCulture)));
		}

		public override SessionStateStoreData CreateNewStoreData (HttpContext context, int timeout)
		{
			return new SessionStateStoreData (new SessionStateItemCollection (), StaticObjects (context), timeout);
		}

		static HttpStaticObjectsCollection StaticObjects (HttpContext context)
		{
			return context == null ? new HttpStaticObjectsCollection () : SessionStateUtility.GetSessionStaticObjects (context);
		}

		// ---- serialization: ASP.NET's own formats ----

		// A byte of flags (1: items follow, 2: static objects follow), then
		// SessionStateItemCollection.Serialize, then HttpStaticObjectsCollection.Serialize.
		public static byte[] Serialize (SessionStateStoreData item)
		{
			var ms = new MemoryStream ();
			var w = new BinaryWriter (ms);
			var items = item == null ? null : item.Items as SessionStateItemCollection;
			HttpStaticObjectsCollection statics = item == null ? null : item.StaticObjects;
			bool hasStatics = statics != null && statics.Count > 0; // (Mono has no NeverAccessed)
			w.Write ((byte) ((items != null ? 1 : 0) | (hasStatics ? 2 : 0)));
			if (items != null)
				items.Serialize (w);
			if (hasStatics)
				statics.Serialize (w);
			w.Flush ();
			return ms.ToArray ();
		}

		public static SessionStateStoreData Deserialize (HttpContext context, byte[] data, int timeout)
		{
			SessionStateItemCollection items = null;
			HttpStaticObjectsCollection statics = null;
			if (data != null && data.Length > 0) {
				var r = new BinaryReader (new MemoryStream (data));
				byte flags = r.ReadByte ();
				if ((flags & 1) != 0)
					items = SessionStateItemCollection.Deserialize (r);
				if ((flags & 2) != 0)
					statics = HttpStaticObjectsCollection.Deserialize (r);
			}
			return new SessionStateStoreData (items ?? new SessionStateItemCollection (),
			                                  statics ?? StaticObjects (context), timeout);
		}

		public override bool SetItemExpireCallback (SessionStateItemExpireCallback expireCallback)
		{
			return false; // Redis expires keys by itself: no Session_End (as with StateServer and SQLServer)
		}

		public override void InitializeRequest (HttpContext context)
		{
		}

		public override void EndRequest (HttpContext context)
		{
		}

		public override void Dispose ()
		{
		}
	}
}
