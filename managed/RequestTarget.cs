// What the C host decided about a request's URL (native/route.c, native/urlpath.c):
// the URL as the client sent it, the one normalised path the server routed
// and judged on, the query string and the server name. The managed side takes
// these as given and derives none of them again: two places deciding what a
// URL means is how "//bin/x" once reached a private file.
using System;
using System.Text;

namespace ScgiMono
{
	public sealed class RequestTarget
	{
		public readonly string RawUrl;      // as the client sent it, query included (RawUrl)
		public readonly string Path;        // decoded, collapsed, starts with '/', no "." or ".." segments
		public readonly string QueryString; // without '?'
		public readonly byte[] QueryStringRawBytes;
		public readonly string ServerName;  // the host name without its port

		public RequestTarget (string rawUrl, string path, byte[] queryRaw, string serverName)
		{
			if (rawUrl == null || path == null || queryRaw == null || serverName == null)
				throw new ArgumentNullException ();
			if (path.Length == 0 || path [0] != '/')
				throw new ArgumentException ("the path must start with '/'", "path");
			RawUrl = rawUrl;
			Path = path;
			QueryStringRawBytes = queryRaw;
			QueryString = Encoding.UTF8.GetString (queryRaw);
			ServerName = serverName;
		}

		// The block native/monohost.c builds: RAW_URL, PATH, QUERY_STRING and
		// SERVER_NAME as "NAME\0value\0" pairs.
		public static RequestTarget FromNative (IntPtr block, int length)
		{
			return FromVars (RequestVars.FromNative (block, length));
		}

		public static RequestTarget FromVars (RequestVars v)
		{
			int q = v.IndexOf ("QUERY_STRING");
			return new RequestTarget (v.Get ("RAW_URL"), v.Get ("PATH"), q >= 0 ? v.RawValueAt (q) : null,
			                          v.Get ("SERVER_NAME"));
		}
	}
}
