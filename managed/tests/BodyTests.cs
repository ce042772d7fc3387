// The request body: preloaded when small, read through ReadEntityBody when large.
// It lives in unmanaged memory (Marshal.AllocHGlobal here, the C host's buffer
// in the server).
using System;
using System.IO;
using NUnit.Framework;

namespace ScgiMono.Tests
{
	[TestFixture]
	public class BodyTests : WorkerRequestFixture
	{
		ScgiWorkerRequest Post (byte[] body)
		{
			return RequestWithBody (body, "CONTENT_LENGTH", body.Length.ToString (), "REQUEST_METHOD", "POST",
			                        "REQUEST_URI", "/page.aspx", "CONTENT_TYPE", "application/octet-stream");
		}

		[Test]
		public void SmallBody_Preloaded ()
		{
			byte[] body = Pattern (1000, 1);
			var wr = Post (body);
			Assert.AreEqual (1000, wr.GetTotalEntityBodyLength ());
			Assert.AreEqual (1000, wr.GetPreloadedEntityBodyLength ());
			Assert.IsTrue (wr.IsEntireEntityBodyIsPreloaded ());
			CollectionAssert.AreEqual (body, wr.GetPreloadedEntityBody ());
		}

		[Test]
		public void SmallBody_ExactlyAtPreloadLimit_Preloaded ()
		{
			byte[] body = Pattern (64 * 1024, 2);
			var wr = Post (body);
			Assert.IsTrue (wr.IsEntireEntityBodyIsPreloaded ());
			CollectionAssert.AreEqual (body, wr.GetPreloadedEntityBody ());
		}

		[Test]
		public void SmallBody_ReadEntityBodyAfterPreload_ReturnsZero ()
		{
			var wr = Post (Pattern (100, 3));
			wr.GetPreloadedEntityBody ();
			Assert.AreEqual (0, wr.ReadEntityBody (new byte [100], 100));
		}

		[Test]
		public void NoBody_NothingPreloaded ()
		{
			var wr = Request ("CONTENT_LENGTH", "0", "REQUEST_METHOD", "GET", "REQUEST_URI", "/");
			Assert.AreEqual (0, wr.GetTotalEntityBodyLength ());
			Assert.AreEqual (0, wr.GetPreloadedEntityBodyLength ());
			Assert.IsNull (wr.GetPreloadedEntityBody ());
			Assert.AreEqual (0, wr.ReadEntityBody (new byte [16], 16));
		}

		[Test]
		public void LargeBody_NotPreloaded ()
		{
			var wr = Post (Pattern (64 * 1024 + 1, 4));
			Assert.AreEqual (64 * 1024 + 1, wr.GetTotalEntityBodyLength ());
			Assert.AreEqual (0, wr.GetPreloadedEntityBodyLength ());
			Assert.IsFalse (wr.IsEntireEntityBodyIsPreloaded ());
			Assert.IsNull (wr.GetPreloadedEntityBody ());
		}

		[Test]
		public void LargeBody_ReadInChunks_ExactBytesAndTotal ()
		{
			byte[] body = Pattern (300 * 1024 + 17, 5);
			var wr = Post (body);
			var got = new MemoryStream ();
			byte[] buf = new byte [8192];
			int n, calls = 0;
			while ((n = wr.ReadEntityBody (buf, buf.Length)) > 0) {
				Assert.LessOrEqual (n, buf.Length);
				got.Write (buf, 0, n);
				calls++;
			}
			Assert.AreEqual (body.Length, got.Length);
			Assert.AreEqual ((body.Length + buf.Length - 1) / buf.Length, calls);
			CollectionAssert.AreEqual (body, got.ToArray ());
		}

		[Test]
		public void LargeBody_ReadWithOffset ()
		{
			byte[] body = Pattern (70000, 6);
			var wr = Post (body);
			byte[] all = new byte [body.Length + 10];
			int pos = 10;
			int n;
			while ((n = wr.ReadEntityBody (all, pos, Math.Min (5000, all.Length - pos))) > 0)
				pos += n;
			Assert.AreEqual (all.Length, pos);
			byte[] tail = new byte [body.Length];
			Array.Copy (all, 10, tail, 0, body.Length);
			CollectionAssert.AreEqual (body, tail);
		}

		[Test]
		public void ReadEntityBody_AfterEnd_ReturnsZero ()
		{
			byte[] body = Pattern (100 * 1024, 7);
			var wr = Post (body);
			byte[] buf = new byte [body.Length];
			Assert.AreEqual (body.Length, wr.ReadEntityBody (buf, buf.Length));
			Assert.AreEqual (0, wr.ReadEntityBody (buf, buf.Length));
			Assert.AreEqual (0, wr.ReadEntityBody (buf, 0, 10));
		}

		[Test]
		public void ReadEntityBody_NullBuffer_ReturnsZero ()
		{
			var wr = Post (Pattern (100 * 1024, 8));
			Assert.AreEqual (0, wr.ReadEntityBody (null, 10));
		}
	
		// A body read through IBodySource (the C host's spool file): in pieces, possibly failing.
		sealed unsafe class PieceSource : IBodySource
		{
			readonly byte[] data;
			readonly int piece;
			readonly int failAt;
			int pos;
			public int Calls;

			public PieceSource (byte[] data, int piece, int failAt = -1)
			{
				this.data = data;
				this.piece = piece;
				this.failAt = failAt;
			}

			public int Read (byte* dst, int length)
			{
				Calls++;
				if (failAt >= 0 && pos >= failAt)
					return -1;
				int n = Math.Min (Math.Min (length, piece), data.Length - pos);
				for (int i = 0; i < n; i++)
					dst [i] = data [pos + i];
				pos += n;
				return n;
			}
		}

		ScgiWorkerRequest FromSource (byte[] body, IBodySource source)
		{
			var vars = CgiBlock.Vars ("CONTENT_LENGTH", body.Length.ToString (), "REQUEST_METHOD", "POST",
			                          "REQUEST_URI", "/page.aspx", "CONTENT_TYPE", "application/octet-stream");
			return new ScgiWorkerRequest (vars, Routed.Target (vars), Paths ("/"), Sink, IntPtr.Zero, body.Length, source);
		}

		[Test]
		public void BodyFromSource_NothingPreloaded_EvenWhenSmall ()
		{
			byte[] body = Pattern (100, 9);
			var wr = FromSource (body, new PieceSource (body, 1000));
			Assert.AreEqual (100, wr.GetTotalEntityBodyLength ());
			Assert.AreEqual (0, wr.GetPreloadedEntityBodyLength ());
			Assert.IsFalse (wr.IsEntireEntityBodyIsPreloaded ());
			Assert.IsNull (wr.GetPreloadedEntityBody ());
		}

		[Test]
		public void BodyFromSource_ReadInPieces_ExactBytesAtOffsets ()
		{
			byte[] body = Pattern (200 * 1024 + 3, 10);
			var src = new PieceSource (body, 7000);
			var wr = FromSource (body, src);
			byte[] all = new byte [body.Length + 5];
			int pos = 5, n;
			while ((n = wr.ReadEntityBody (all, pos, Math.Min (32768, all.Length - pos))) > 0) {
				Assert.LessOrEqual (n, 7000);
				pos += n;
			}
			Assert.AreEqual (all.Length, pos);
			byte[] tail = new byte [body.Length];
			Array.Copy (all, 5, tail, 0, body.Length);
			CollectionAssert.AreEqual (body, tail);
			int calls = src.Calls;
			Assert.AreEqual (0, wr.ReadEntityBody (all, 0, 10));
			Assert.AreEqual (calls, src.Calls, "no read past the announced length");
		}

		[Test]
		public void BodyFromSource_SourceFails_ThrowsInsteadOfEndingShort ()
		{
			byte[] body = Pattern (50000, 11);
			var wr = FromSource (body, new PieceSource (body, 10000, 20000));
			byte[] buf = new byte [10000];
			Assert.AreEqual (10000, wr.ReadEntityBody (buf, buf.Length));
			Assert.AreEqual (10000, wr.ReadEntityBody (buf, buf.Length));
			var e = Assert.Throws<System.Web.HttpException> (() => wr.ReadEntityBody (buf, buf.Length));
			Assert.AreEqual (400, e.GetHttpCode ());
		}

		[Test]
		public void BodyFromSource_BadOffset_Throws ()
		{
			byte[] body = Pattern (5000, 12);
			var wr = FromSource (body, new PieceSource (body, 5000));
			Assert.Throws<ArgumentOutOfRangeException> (() => wr.ReadEntityBody (new byte [10], 5, 10));
		}

		[Test]
		public void BodyFromSource_ThroughSystemWebInputStream ()
		{
			// What HttpRequest.InputStream makes of it (ASP.NET reads it via ReadEntityBody).
			byte[] body = Pattern (70 * 1024, 13); // under ASP.NET's 80 KB disk threshold
			var wr = FromSource (body, new PieceSource (body, 4096));
			var ctx = new System.Web.HttpContext (wr);
			var got = new MemoryStream ();
			ctx.Request.InputStream.CopyTo (got);
			CollectionAssert.AreEqual (body, got.ToArray ());
		}
	}
}
