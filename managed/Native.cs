// Internal calls into the C host (native/monohost.c registers them).
// Only blittable arguments cross: pointers, integers. The C side owns every
// pointer passed in; the managed side never keeps one past the request.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace ScgiMono
{
	internal static unsafe class Native
	{
		// headers: count names and values laid end to end in block; lens holds
		// their byte lengths (name 0, value 0, name 1, ...).
		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void SendHeaders (IntPtr conn, int status, byte* reason, int reasonLen,
		                                       byte* block, int blockLen, int* lens, int count);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void SendBody (IntPtr conn, byte* data, int len);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void Flush (IntPtr conn, int final);

		// sendfile(2) from an open file descriptor; 0 when the bytes should be copied instead.
		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern int SendFile (IntPtr conn, IntPtr fd, long offset, long length);

		// The next request body bytes: a count, 0 at the end, -1 when the body
		// cannot be read whole (the reason is in the server's log).
		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern int ReadBody (IntPtr conn, byte* dst, int len);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern int IsConnected (IntPtr conn);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void CloseConnection (IntPtr conn);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void DomainReady (IntPtr gen, int apacheStatus);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern int InFlight (IntPtr gen);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void DomainUnloading (IntPtr gen);

		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void DomainGone (IntPtr gen);

		// Under the supervisor: ASP.NET began unloading this domain (see
		// Entry.LeaveRestartsToSupervisor); the worker asks to be replaced.
		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void UnloadStarted (IntPtr gen);

		// A line into the server's log (level: 1 warn, 2 notice, 3 info, 4 debug), UTF-8.
		[MethodImpl (MethodImplOptions.InternalCall)]
		public static extern void Log (int level, byte* text, int len);
	}

	// The managed host's log lines: through the server's log (time, [worker
	// PID], level, error_log, log_level) when it runs in the server; on
	// standard error, prefixed "scgi-mono:", where no server registered the
	// internal call (the unit tests, the benchmark's in-process pipeline).
	public static class ServerLog
	{
		public const int Warn = 1, Notice = 2, Info = 3, Debug = 4;
		static volatile bool noServer;

		public static unsafe void Write (int level, string message)
		{
			if (!noServer) {
				try {
					byte[] b = System.Text.Encoding.UTF8.GetBytes (message);
					fixed (byte* p = b)
						Native.Log (level, p, b.Length);
					return;
				} catch (MissingMethodException) {
					noServer = true;
				} catch (System.Security.SecurityException) {
					noServer = true;
				}
			}
			Console.Error.WriteLine ("scgi-mono: " + message);
		}

		public static void Write (int level, string format, params object[] args)
		{
			Write (level, string.Format (System.Globalization.CultureInfo.InvariantCulture, format, args));
		}
	}

	// Where a worker request's response goes. The server uses NativeSink; tests
	// use their own sink to see exactly what System.Web produced.
	public interface IResponseSink
	{
		// headers: name, value, name, value... exactly as the application gave them
		// (the C host decides what may reach the wire).
		void SendHeaders (int status, string reason, IList<string> headers);
		void SendBody (byte[] data, int offset, int length);
		unsafe void SendBody (byte* data, int length);
		// Sends a slice of an open file without copying it through managed memory;
		// false when the sink prefers the bytes copied (small slices, or no socket).
		bool SendFile (IntPtr fd, long offset, long length);
		void Flush (bool final);
		bool IsConnected { get; }
		void CloseConnection ();
	}

	// Where a large request body comes from (the C host's temporary file; a small one is
	// handed over as memory instead).
	public interface IBodySource
	{
		// Up to length next bytes into dst: a count, 0 at the end, -1 on failure.
		unsafe int Read (byte* dst, int length);
	}

	internal sealed unsafe class NativeSink : IResponseSink, IBodySource
	{
		readonly IntPtr conn;

		public NativeSink (IntPtr conn)
		{
			this.conn = conn;
		}

		public void SendHeaders (int status, string reason, IList<string> headers)
		{
			byte[] r = Latin1.GetBytes (reason ?? "");
			var block = new System.IO.MemoryStream (256);
			int[] lens = new int [Math.Max (headers.Count, 1)];
			for (int i = 0; i < headers.Count; i++) {
				byte[] b = Latin1.GetBytes (headers [i] ?? "");
				block.Write (b, 0, b.Length);
				lens [i] = b.Length;
			}
			byte[] h = block.GetBuffer ();
			fixed (byte* rp = r)
			fixed (byte* hp = h)
			fixed (int* lp = lens)
				Native.SendHeaders (conn, status, rp, r.Length, hp, (int) block.Length, lp, headers.Count / 2);
		}

		public void SendBody (byte[] data, int offset, int length)
		{
			if (length <= 0)
				return;
			fixed (byte* p = data)
				Native.SendBody (conn, p + offset, length);
		}

		public void SendBody (byte* data, int length)
		{
			if (length > 0)
				Native.SendBody (conn, data, length);
		}

		public int Read (byte* dst, int length)
		{
			return Native.ReadBody (conn, dst, length);
		}

		public bool SendFile (IntPtr fd, long offset, long length)
		{
			return Native.SendFile (conn, fd, offset, length) != 0;
		}

		public void Flush (bool final)
		{
			Native.Flush (conn, final ? 1 : 0);
		}

		public bool IsConnected {
			get { return Native.IsConnected (conn) != 0; }
		}

		public void CloseConnection ()
		{
			Native.CloseConnection (conn);
		}
	}

	// Header text is ISO-8859-1 on the wire; characters above U+00FF (which HTTP
	// does not allow in headers) are sent as UTF-8 so that nothing is lost silently.
	internal static class Latin1
	{
		public static byte[] GetBytes (string s)
		{
			bool wide = false;
			foreach (char ch in s)
				if (ch > '\u00ff') { wide = true; break; }
			if (wide)
				return System.Text.Encoding.UTF8.GetBytes (s);
			byte[] b = new byte [s.Length];
			for (int i = 0; i < s.Length; i++)
				b [i] = (byte) s [i];
			return b;
		}
	}
}
