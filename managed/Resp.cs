// The Redis protocol (RESP 2): commands encoded as arrays of bulk strings, and
// a parser of replies over a byte buffer. Pure: no I/O, so the parser can be
// tested (and fuzzed) on any bytes; RedisConnection does the reading.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace ScgiMono
{
	public enum RespKind { Simple, Error, Integer, Bulk, Array, Null }

	// One reply. Bulk: Bytes (binary-safe). Simple and Error: Text. Integer:
	// Integer. Array: Items. Null: a null bulk string or a null array.
	public sealed class RespValue
	{
		public readonly RespKind Kind;
		public readonly string Text;
		public readonly byte[] Bytes;
		public readonly long Integer;
		public readonly RespValue[] Items;

		public static readonly RespValue Null = new RespValue (RespKind.Null, null, null, 0, null);

		RespValue (RespKind kind, string text, byte[] bytes, long integer, RespValue[] items)
		{
			Kind = kind;
			Text = text;
			Bytes = bytes;
			Integer = integer;
			Items = items;
		}

		public static RespValue Simple (string s) { return new RespValue (RespKind.Simple, s, null, 0, null); }
		public static RespValue Error (string s) { return new RespValue (RespKind.Error, s, null, 0, null); }
		public static RespValue Int (long n) { return new RespValue (RespKind.Integer, null, null, n, null); }
		public static RespValue Bulk (byte[] b) { return new RespValue (RespKind.Bulk, null, b, 0, null); }
		public static RespValue Array (RespValue[] items) { return new RespValue (RespKind.Array, null, null, 0, items); }

		public bool IsNull { get { return Kind == RespKind.Null; } }

		// A bulk or simple string as UTF-8 text; null for Null.
		public string AsString ()
		{
			switch (Kind) {
			case RespKind.Bulk: return Encoding.UTF8.GetString (Bytes);
			case RespKind.Simple: return Text;
			case RespKind.Integer: return Integer.ToString (CultureInfo.InvariantCulture);
			case RespKind.Null: return null;
			default: throw new RespProtocolException ("expected a string, got " + Kind);
			}
		}

		public long AsInteger ()
		{
			if (Kind == RespKind.Integer)
				return Integer;
			long n;
			string s = AsString ();
			if (s != null && long.TryParse (s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n))
				return n;
			throw new RespProtocolException ("expected an integer, got " + Kind);
		}
	}

	// The peer sent bytes that are not a RESP reply (or one over a limit): the
	// connection cannot be used any more.
	public sealed class RespProtocolException : Exception
	{
		public RespProtocolException (string message) : base (message) { }
	}

	public static class RespEncoder
	{
		// *N\r\n then $len\r\nbytes\r\n per argument: binary-safe, so a value
		// may hold CRLF or any byte.
		public static byte[] Command (IList<byte[]> args)
		{
			var ms = new MemoryStream ();
			WriteHeader (ms, '*', args.Count);
			foreach (byte[] a in args) {
				WriteHeader (ms, '$', a.Length);
				ms.Write (a, 0, a.Length);
				ms.WriteByte ((byte) '\r');
				ms.WriteByte ((byte) '\n');
			}
			return ms.ToArray ();
		}

		public static byte[] Command (params string[] args)
		{
			var b = new byte[args.Length][];
			for (int i = 0; i < args.Length; i++)
				b [i] = Encoding.UTF8.GetBytes (args [i]);
			return Command (b);
		}

		static void WriteHeader (MemoryStream ms, char type, int n)
		{
			byte[] h = Encoding.ASCII.GetBytes (type + n.ToString (CultureInfo.InvariantCulture) + "\r\n");
			ms.Write (h, 0, h.Length);
		}
	}

	// Parses one reply from buf[offset, offset+count). Returns false when the
	// bytes are a valid but incomplete prefix (read more and call again with the
	// longer buffer); true with the value and the bytes it took; throws
	// RespProtocolException on anything that is not RESP, on a bulk string or
	// array longer than the limits, or nesting deeper than MaxDepth.
	public sealed class RespParser
	{
		public const int MaxDepth = 8;
		public readonly int MaxBulk;
		public readonly int MaxItems;

		public RespParser (int maxBulk = 64 * 1024 * 1024, int maxItems = 1024 * 1024)
		{
			MaxBulk = maxBulk;
			MaxItems = maxItems;
		}

		public bool TryParse (byte[] buf, int offset, int count, out RespValue value, out int consumed)
		{
			if (offset < 0 || count < 0 || offset + count > buf.Length)
				throw new ArgumentOutOfRangeException ("count");
			int pos = offset;
			value = Parse (buf, ref pos, offset + count, 0);
			consumed = value == null ? 0 : pos - offset;
			return value != null;
		}

		// null: incomplete.
		RespValue Parse (byte[] buf, ref int pos, int end, int depth)
		{
			if (pos >= end)
				return null;
			byte type = buf [pos];
			int lineEnd = FindCrlf (buf, pos + 1, end);
			if (lineEnd < 0) {
				if (end - pos > 64 * 1024)
					throw new RespProtocolException ("reply line longer than 64 KiB");
				return null;
			}
			int lineStart = pos + 1;
			switch (type) {
			case (byte) '+':
				pos = lineEnd + 2;
				return RespValue.Simple (Line (buf, lineStart, lineEnd));
			case (byte) '-':
				pos = lineEnd + 2;
				return RespValue.Error (Line (buf, lineStart, lineEnd));
			case (byte) ':':
				pos = lineEnd + 2;
				return RespValue.Int (Number (buf, lineStart, lineEnd));
			case (byte) '$': {
				long n = Number (buf, lineStart, lineEnd);
				if (n == -1) {
					pos = lineEnd + 2;
					return RespValue.Null;
				}
				if (n < 0 || n > MaxBulk)
					throw new RespProtocolException ("bulk string length " + n + " out of range");
				int dataStart = lineEnd + 2;
				if ((long) end - dataStart < n + 2)
					return null;
				int dataEnd = dataStart + (int) n;
				if (buf [dataEnd] != '\r' || buf [dataEnd + 1] != '\n')
					throw new RespProtocolException ("bulk string not followed by CRLF");
				var b = new byte [n];
				Buffer.BlockCopy (buf, dataStart, b, 0, (int) n);
				pos = dataEnd + 2;
				return RespValue.Bulk (b);
			}
			case (byte) '*': {
				long n = Number (buf, lineStart, lineEnd);
				if (n == -1) {
					pos = lineEnd + 2;
					return RespValue.Null;
				}
				if (n < 0 || n > MaxItems)
					throw new RespProtocolException ("array length " + n + " out of range");
				if (depth >= MaxDepth)
					throw new RespProtocolException ("arrays nested deeper than " + MaxDepth);
				int p = lineEnd + 2;
				// Each item takes at least 3 bytes (":0\r\n" is 4): no allocation
				// sized by a length the peer claims but has not sent.
				var items = new List<RespValue> ((int) Math.Min (n, (end - p) / 3 + 1));
				for (long i = 0; i < n; i++) {
					RespValue v = Parse (buf, ref p, end, depth + 1);
					if (v == null)
						return null;
					items.Add (v);
				}
				pos = p;
				return RespValue.Array (items.ToArray ());
			}
			default:
				throw new RespProtocolException (string.Format ("unknown reply type byte 0x{0:x2}", type));
			}
		}

		static int FindCrlf (byte[] buf, int from, int end)
		{
			for (int i = from; i < end; i++) {
				if (buf [i] == '\r') {
					if (i + 1 == end)
						return -1;
					if (buf [i + 1] != '\n')
						throw new RespProtocolException ("CR without LF in a reply line");
					return i;
				}
				if (buf [i] == '\n')
					throw new RespProtocolException ("LF without CR in a reply line");
			}
			return -1;
		}

		static string Line (byte[] buf, int start, int end)
		{
			return Encoding.UTF8.GetString (buf, start, end - start);
		}

		static long Number (byte[] buf, int start, int end)
		{
			int i = start;
			bool neg = false;
			if (i < end && buf [i] == '-') {
				neg = true;
				i++;
			}
			if (i == end || end - i > 19)
				throw new RespProtocolException ("bad number in a reply");
			long n = 0;
			for (; i < end; i++) {
				byte c = buf [i];
				if (c < '0' || c > '9')
					throw new RespProtocolException ("bad number in a reply");
				try {
					n = checked (n * 10 + (c - '0'));
				} catch (OverflowException) {
					throw new RespProtocolException ("number out of range in a reply");
				}
			}
			return neg ? -n : n;
		}
	}
}
