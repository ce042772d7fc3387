// RequestVars: the CGI variable block as SCGI delivers it.
using System;
using System.Text;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class RequestVarsTests
	{
		[Test]
		public void Get_MissingName_ReturnsNull ()
		{
			var v = CgiBlock.Vars ("REQUEST_METHOD", "GET");
			Assert.IsNull (v.Get ("HTTP_HOST"));
			Assert.AreEqual (-1, v.IndexOf ("HTTP_HOST"));
		}

		[Test]
		public void Get_EmptyBlock_ReturnsNull ()
		{
			var v = new RequestVars (new byte [0]);
			Assert.AreEqual (0, v.Count);
			Assert.IsNull (v.Get ("REQUEST_METHOD"));
		}

		[Test]
		public void Get_PresentNames_ReturnValuesInOrder ()
		{
			var v = CgiBlock.Vars ("CONTENT_LENGTH", "0", "REQUEST_METHOD", "POST", "EMPTY", "");
			Assert.AreEqual (3, v.Count);
			Assert.AreEqual ("CONTENT_LENGTH", v.NameAt (0));
			Assert.AreEqual ("REQUEST_METHOD", v.NameAt (1));
			Assert.AreEqual ("POST", v.ValueAt (1));
			Assert.AreEqual ("0", v.Get ("CONTENT_LENGTH"));
			Assert.AreEqual ("", v.Get ("EMPTY"));
		}

		[Test]
		public void Get_NamesAreCaseSensitive ()
		{
			var v = CgiBlock.Vars ("HTTP_HOST", "example.com");
			Assert.IsNull (v.Get ("http_host"));
		}

		[Test]
		public void Get_Utf8ValueDecoded_RawBytesKept ()
		{
			var v = CgiBlock.Vars ("QUERY_STRING", "q=café");
			Assert.AreEqual ("q=café", v.Get ("QUERY_STRING"));
			CollectionAssert.AreEqual (Encoding.UTF8.GetBytes ("q=café"), v.RawValueAt (0));
		}

		[Test]
		public void Get_RepeatedCookie_JoinedWithSemicolon ()
		{
			var v = CgiBlock.Vars ("HTTP_COOKIE", "a=1", "HTTP_HOST", "h", "HTTP_COOKIE", "b=2");
			Assert.AreEqual ("a=1; b=2", v.Get ("HTTP_COOKIE"));
		}

		[Test]
		public void Get_RepeatedHeader_JoinedWithComma ()
		{
			var v = CgiBlock.Vars ("HTTP_ACCEPT", "text/html", "HTTP_ACCEPT", "*/*");
			Assert.AreEqual ("text/html, */*", v.Get ("HTTP_ACCEPT"));
		}

		// Lookups go through an index built once: 20,000 variables, each looked up,
		// take well under a second (a scan per lookup took seconds).
		[Test]
		public void Lookup_ManyVariables_Linear ()
		{
			const int N = 20000;
			var nv = new string [2 * N];
			for (int i = 0; i < N; i++) {
				nv [2 * i] = "HTTP_X_" + i;
				nv [2 * i + 1] = i.ToString ();
			}
			var sw = System.Diagnostics.Stopwatch.StartNew ();
			var v = CgiBlock.Vars (nv);
			for (int i = 0; i < N; i++) {
				Assert.AreEqual (i, v.IndexOf ("HTTP_X_" + i));
				if (i % 100 == 0)
					Assert.AreEqual (i.ToString (), v.Get ("HTTP_X_" + i));
			}
			Assert.IsNull (v.Get ("HTTP_X_" + N));
			sw.Stop ();
			Assert.Less (sw.ElapsedMilliseconds, 1000, "20,000 lookups took " + sw.ElapsedMilliseconds + " ms");
		}

		// 20,000 repeats of one name join in linear time, in order.
		[Test]
		public void Get_ManyRepeats_JoinedInOrderLinear ()
		{
			const int N = 20000;
			var nv = new string [2 * N + 2];
			for (int i = 0; i < N; i++) {
				nv [2 * i] = "HTTP_X_A";
				nv [2 * i + 1] = i.ToString ();
			}
			nv [2 * N] = "HTTP_HOST";
			nv [2 * N + 1] = "h";
			var sw = System.Diagnostics.Stopwatch.StartNew ();
			var v = CgiBlock.Vars (nv);
			string joined = v.Get ("HTTP_X_A");
			sw.Stop ();
			Assert.IsTrue (joined.StartsWith ("0, 1, 2, "), joined.Substring (0, 20));
			Assert.IsTrue (joined.EndsWith (", 19998, 19999"));
			Assert.AreEqual (0, v.IndexOf ("HTTP_X_A"));
			Assert.AreEqual ("h", v.Get ("HTTP_HOST"));
			Assert.Less (sw.ElapsedMilliseconds, 1000);
		}

		// Names compare byte for byte: a name with a byte >= 0x80 is not found
		// under the '?' that ASCII decoding shows for it.
		[Test]
		public void Lookup_NonAsciiNameBytes_MatchOnlyThemselves ()
		{
			byte[] block = { (byte) 'X', 0x80, 0, (byte) '1', 0, (byte) 'X', (byte) '?', 0, (byte) '2', 0 };
			var v = new RequestVars (block);
			Assert.AreEqual (2, v.Count);
			Assert.AreEqual ("2", v.Get ("X?"));
			Assert.AreEqual (1, v.IndexOf ("X?"));
			Assert.AreEqual ("1", v.Get ("X\u0080"));
			Assert.IsNull (v.Get ("X\u0081"));
		}

		[Test]
		public void Parse_TruncatedLastPair_Ignored ()
		{
			byte[] full = CgiBlock.Build ("A", "1", "B", "2");
			// Drop the final NUL: "B\02" is an incomplete pair.
			var v = new RequestVars (full, full.Length - 1);
			Assert.AreEqual (1, v.Count);
			Assert.AreEqual ("1", v.Get ("A"));
			Assert.IsNull (v.Get ("B"));
		}

		[Test]
		public void Parse_LengthLimitsTheBlock ()
		{
			byte[] a = CgiBlock.Build ("A", "1");
			byte[] both = CgiBlock.Build ("A", "1", "B", "2");
			var v = new RequestVars (both, a.Length);
			Assert.AreEqual (1, v.Count);
			Assert.IsNull (v.Get ("B"));
		}
	}
}
