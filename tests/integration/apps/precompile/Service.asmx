<%@ WebService Language="C#" Class="EchoService" %>
using System.Web.Services;

[WebService (Namespace = "urn:scgi-mono-test")]
public class EchoService : WebService
{
	[WebMethod]
	public string Echo (string s)
	{
		return s;
	}
}
