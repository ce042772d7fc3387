// ASP.NET's SessionIDManager, except that a session id cookie longer than it
// accepts (80 characters) names no session instead of failing the request with
// 500 ("The length of the session-identifier value ... exceeds the
// SessionIDMaxLength value", thrown by Mono's and Microsoft's GetSessionID
// whatever the store). Every other id it refuses (bad characters) is already
// "no session" there. Opt-in: <sessionState sessionIDManagerType=
// "ScgiMono.LenientSessionIDManager, ScgiMono" ...>.
using System.Web;
using System.Web.SessionState;

namespace ScgiMono
{
	public class LenientSessionIDManager : SessionIDManager, ISessionIDManager
	{
		string ISessionIDManager.GetSessionID (HttpContext context)
		{
			try {
				return GetSessionID (context);
			} catch (HttpException) {
				return null; // a new session is made, its cookie replaces the bad one
			}
		}
	}
}
