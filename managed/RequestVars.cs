// The request's CGI variables ("NAME\0value\0" pairs, as SCGI sends them and as
// the C host builds them for plain HTTP). The block is copied once into managed
// memory and indexed; values are decoded only when asked for.
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

		// Compares pair i's name with an ASCII name, without decoding it.
		bool NameIs (int i, string name)
		{
			int len = offs [4 * i + 1];
			if (len != name.Length)
				return false;
			int at = offs [4 * i];
			for (int k = 0; k < len; k++)
				if (block [at + k] != name [k])
					return false;
			return true;
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

		public int IndexOf (string name)
		{
			for (int i = 0; i < count; i++)
				if (NameIs (i, name))
					return i;
			return -1;
		}

		// Returns the value, or null when the variable is absent. Repeated HTTP_*
		// variables (nginx sends one HTTP_COOKIE per Cookie header) are joined the
		// way HTTP joins repeated headers.
		public string Get (string name)
		{
			int first = IndexOf (name);
			if (first < 0)
				return null;
			string v = ValueAt (first);
			for (int i = first + 1; i < count; i++) {
				if (!NameIs (i, name))
					continue;
				v = v + (name == "HTTP_COOKIE" ? "; " : ", ") + ValueAt (i);
			}
			return v;
		}
	}
}
