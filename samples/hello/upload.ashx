<%@ WebHandler Language="C#" Class="UploadHandler" %>
// Reads the request body 64 KiB at a time without ASP.NET buffering it again
// (GetBufferlessInputStream; the server has it in memory or, when large, in a
// temporary file) and reports its length and a checksum: the way to take
// uploads of any size in bounded memory.
// ?report=1 answers how many uploads ended early (the read threw) instead.
using System;
using System.IO;
using System.Threading;
using System.Web;

public class UploadHandler : IHttpHandler
{
    static int incomplete;

    public bool IsReusable { get { return true; } }

    public void ProcessRequest(HttpContext context)
    {
        HttpResponse resp = context.Response;
        resp.ContentType = "text/plain";
        if (context.Request.QueryString["report"] != null) {
            resp.Write("incomplete=" + Thread.VolatileRead(ref incomplete) + "\n");
            return;
        }
        Stream body = context.Request.GetBufferlessInputStream();
        byte[] buf = new byte[65536];
        long length = 0;
        uint sum = 0;
        try {
            int n;
            while ((n = body.Read(buf, 0, buf.Length)) > 0) {
                length += n;
                for (int i = 0; i < n; i++)
                    unchecked { sum += buf[i]; }
            }
        } catch (HttpException) {
            Interlocked.Increment(ref incomplete);
            throw;
        }
        resp.Write("bodylength=" + length + "\nbodysum=" + sum + "\n");
    }
}
