<%@ Application Language="C#" %>
<script runat="server">
	// test_75: while the file named by SCGI_MONO_TEST_PRECOMPILE_GATE exists
	// (at most 60 s), the application's start waits: the precompilation
	// (which starts the application first) is held, and the test sees the
	// worker warming meanwhile.
	void Application_Start (object sender, System.EventArgs e)
	{
		string gate = System.Environment.GetEnvironmentVariable ("SCGI_MONO_TEST_PRECOMPILE_GATE");
		for (int waited = 0; gate != null && System.IO.File.Exists (gate) && waited < 60000; waited += 50)
			System.Threading.Thread.Sleep (50);
	}
</script>
