<%@ WebHandler Language="C#" Class="EchoHandler" %>
// Echoes what ASP.NET saw of the request, one "key=value" line each, so
// tests can check how the host translated the SCGI request. Keeps no state.
using System;
using System.IO;
using System.Text;
using System.Web;
using System.Collections.Specialized;

public class EchoHandler : IHttpHandler
{
    public bool IsReusable { get { return true; } }

    static void Line(StringBuilder sb, string key, string value)
    {
        sb.Append(key).Append('=').Append(value ?? "").Append('\n');
    }

    static void Collection(StringBuilder sb, string prefix, NameValueCollection c)
    {
        for (int i = 0; i < c.Count; i++)
            Line(sb, prefix + (c.GetKey(i) ?? ""), c[i]);
    }

    public void ProcessRequest(HttpContext context)
    {
        HttpRequest req = context.Request;
        HttpResponse resp = context.Response;
        StringBuilder sb = new StringBuilder();
        // ?sleep=MS holds the request (at most 10 s), for tests of a busy server.
        int sleep;
        if (int.TryParse(req.QueryString["sleep"], out sleep) && sleep > 0)
            System.Threading.Thread.Sleep(Math.Min(sleep, 10000));

        Line(sb, "method", req.HttpMethod);
        Line(sb, "path", req.Path);
        Line(sb, "pathinfo", req.PathInfo);
        Line(sb, "filepath", req.FilePath);
        Line(sb, "apppath", req.ApplicationPath);
        Line(sb, "rawurl", req.RawUrl);
        Line(sb, "url", req.Url.AbsoluteUri);
        Line(sb, "query", req.Url.Query);
        Collection(sb, "q.", req.QueryString);
        Line(sb, "physical", req.PhysicalPath);
        Line(sb, "remote", req.UserHostAddress);
        Line(sb, "secure", req.IsSecureConnection ? "true" : "false");
        Line(sb, "contenttype", req.ContentType);
        Collection(sb, "h.", req.Headers);

        string ct = req.ContentType ?? "";
        bool isForm = ct.StartsWith("application/x-www-form-urlencoded",
                                    StringComparison.OrdinalIgnoreCase);
        if (isForm)
            Collection(sb, "form.", req.Form);   // parse the form first

        Stream body = req.InputStream;
        if (isForm && body.CanSeek)
            body.Position = 0;                    // then re-read the raw bytes
        long length = 0;
        uint sum = 0;
        byte[] buf = new byte[65536];
        int n;
        while ((n = body.Read(buf, 0, buf.Length)) > 0) {
            length += n;
            for (int i = 0; i < n; i++)
                unchecked { sum += buf[i]; }
        }
        Line(sb, "bodylength", length.ToString());
        Line(sb, "bodysum", sum.ToString());
        Line(sb, "appdomain", AppDomain.CurrentDomain.Id.ToString());
        // ?env=NAME shows an environment variable of the server process.
        string env = req.QueryString["env"];
        if (env != null)
            Line(sb, "env." + env, Environment.GetEnvironmentVariable(env) ?? "(unset)");
        Line(sb, "started", (string)context.Application["started"]);

        resp.ContentType = "text/plain";
        resp.ContentEncoding = Encoding.UTF8;
        resp.Write(sb.ToString());
    }
}
