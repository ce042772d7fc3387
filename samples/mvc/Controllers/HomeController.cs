using System.Web.Mvc;

namespace MvcSample.Controllers
{
	public class HomeController : Controller
	{
		// An HTML page through the layout, with links from Html.ActionLink.
		public ActionResult Index ()
		{
			ViewBag.Message = "Hello from ASP.NET MVC 3 and Razor on scgi-mono";
			return View ();
		}

		public ActionResult About ()
		{
			return View ("Info");
		}

		// /Home/Details/42
		public ActionResult Details (string id)
		{
			return View ("Info");
		}

		// /Home/Paths, /Home/Paths/a.b/: ASP.NET's view of the request path.
		public ActionResult Paths (string id)
		{
			return View ("Info");
		}
	}
}
