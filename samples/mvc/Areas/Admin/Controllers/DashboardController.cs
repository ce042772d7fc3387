using System.Web.Mvc;

namespace MvcSample.Areas.Admin.Controllers
{
	// The Admin area's own controller (a HomeController-like name in another
	// namespace would clash without the route's namespaces).
	public class DashboardController : Controller
	{
		public ActionResult Index (string id)
		{
			return View ();
		}
	}
}
