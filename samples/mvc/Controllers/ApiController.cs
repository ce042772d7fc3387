using System.Web.Mvc;

namespace MvcSample.Controllers
{
	// api/{version}/{resource}: versions with dots ("v1.2").
	public class ApiController : Controller
	{
		public ActionResult List (string version, string resource)
		{
			return View ("Info");
		}
	}
}
