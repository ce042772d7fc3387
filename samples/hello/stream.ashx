<%@ WebHandler Language="C#" Class="StreamHandler" %>
// Streams ?mb=N MiB of text/plain in 64 KiB pieces, flushing each, so nothing is
// buffered whole. It stops when the client goes away (Response.IsClientConnected)
// and remembers where: ?report=1 answers "abandoned=<piece>" for the last such stop.
using System;
using System.Web;

public class StreamHandler : IHttpHandler
{
    static int lastAbandoned = -1;

    public bool IsReusable { get { return true; } }

    public void ProcessRequest(HttpContext context)
    {
        HttpResponse resp = context.Response;
        resp.ContentType = "text/plain";
        if (context.Request.QueryString["report"] != null) {
            resp.Write("abandoned=" + lastAbandoned);
            return;
        }
        int mb;
        if (!int.TryParse(context.Request.QueryString["mb"], out mb) || mb < 0)
            mb = 1;
        resp.BufferOutput = false;
        byte[] piece = new byte[65536];
        for (int i = 0; i < piece.Length; i++)
            piece[i] = (byte)('a' + i % 26);
        int pieces = mb * 16;
        for (int i = 0; i < pieces; i++) {
            if (!resp.IsClientConnected) {
                lastAbandoned = i;
                return;
            }
            resp.OutputStream.Write(piece, 0, piece.Length);
            resp.Flush();
        }
    }
}
