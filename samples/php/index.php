<?php
// PHP beside the ASP.NET application: served by php-fpm over FastCGI from the
// same virtual host as the application the front end passes to scgi-mono-server.
header('Content-Type: text/plain');
echo "Hello from PHP\n";
echo "uri=", $_SERVER['REQUEST_URI'], "\n";
