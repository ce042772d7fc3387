// The request's CGI variables ("NAME\0value\0" pairs, as SCGI sends them and as
// the C host builds them for plain HTTP). The block is copied once into managed
// memory and indexed; values are decoded only when asked for. Names are looked
// up through a dictionary built on the first lookup, so a request with many
// variables costs time linear in their number, not quadratic.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace ScgiMono
{
	public sealed class RequestVars
	{
		readonly byte[] block;
		// For pair i: name at offs[4i] (length offs[4i+1]), value at offs[4i+2] (length offs[4i+3]).
		readonly int[] offs;
		readonly int count;
		string[] names;   // decoded on demand
		string[] values;  // decoded on demand
		// Built on the first lookup: name (each byte as one char, so that distinct
		// byte strings never share a key) -> first pair with it; next[i] is the next
		// pair with pair i's name, or -1.
		Dictionary<string, int> index;
		int[] next;

		public RequestVars (byte[] block) : this (block, block.Length)
		{
		}

		public RequestVars (byte[] block, int length)
		{
			this.block = block;
			var list = new List<int> (64);
			int pos = 0;
			while (pos < length) {
				int n = Array.IndexOf (block, (byte) 0, pos, length - pos);
				if (n < 0)
					break;
				int v = Array.IndexOf (block, (byte) 0, n + 1, length - n - 1);
				if (v < 0)
					break;
				list.Add (pos); list.Add (n - pos); list.Add (n + 1); list.Add (v - n - 1);
				pos = v + 1;
			}
			offs = list.ToArray ();
			count = offs.Length / 4;
		}

		public static RequestVars FromNative (IntPtr block, int length)
		{
			byte[] copy = new byte [length];
			if (length > 0)
				Marshal.Copy (block, copy, 0, length);
			return new RequestVars (copy, length);
		}

		public int Count {
			get { return count; }
		}

		public string NameAt (int i)
		{
			if (names == null)
				names = new string [count];
			string n = names [i];
			if (n == null)
				names [i] = n = Encoding.ASCII.GetString (block, offs [4 * i], offs [4 * i + 1]);
			return n;
		}

		// Pair i's name bytes as a string of the same length, one char per byte.
		string KeyAt (int i)
		{
			int at = offs [4 * i], len = offs [4 * i + 1];
			var c = new char [len];
			for (int k = 0; k < len; k++)
				c [k] = (char) block [at + k];
			return new string (c);
		}

		void BuildIndex ()
		{
			index = new Dictionary<string, int> (count, StringComparer.Ordinal);
			next = new int [count];
			var last = new Dictionary<string, int> (StringComparer.Ordinal);
			for (int i = 0; i < count; i++) {
				string key = KeyAt (i);
				next [i] = -1;
				int prev;
				if (last.TryGetValue (key, out prev))
					next [prev] = i;
				else
					index [key] = i;
				last [key] = i;
			}
		}

		public string ValueAt (int i)
		{
			if (values == null)
				values = new string [count];
			string v = values [i];
			if (v == null)
				values [i] = v = Encoding.UTF8.GetString (block, offs [4 * i + 2], offs [4 * i + 3]);
			return v;
		}

		// The raw bytes of a value (e.g. QUERY_STRING for GetQueryStringRawBytes).
		public byte[] RawValueAt (int i)
		{
			byte[] r = new byte [offs [4 * i + 3]];
			Buffer.BlockCopy (block, offs [4 * i + 2], r, 0, r.Length);
			return r;
		}

		// The first pair named name, or -1.
		public int IndexOf (string name)
		{
			if (index == null)
				BuildIndex ();
			int i;
			return index.TryGetValue (name, out i) ? i : -1;
		}

		// Returns the value, or null when the variable is absent. Repeated HTTP_*
		// variables (nginx sends one HTTP_COOKIE per Cookie header) are joined the
		// way HTTP joins repeated headers.
		public string Get (string name)
		{
			int first = IndexOf (name);
			if (first < 0)
				return null;
			if (next [first] < 0)
				return ValueAt (first);
			var sb = new StringBuilder (ValueAt (first));
			string sep = name == "HTTP_COOKIE" ? "; " : ", ";
			for (int i = next [first]; i >= 0; i = next [i])
				sb.Append (sep).Append (ValueAt (i));
			return sb.ToString ();
		}
	}
}
