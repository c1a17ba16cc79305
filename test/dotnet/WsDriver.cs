// A line-driven WebSocket client over .NET's System.Net.WebSockets.ClientWebSocket,
// the class Resonite's WebsocketClient uses. The tests drive it on stdin, one command a line:
//   connect URL        -> "open" or "error MESSAGE"
//   send TEXT          -> "sent" or "error MESSAGE"   (TEXT escaped: \n \r \\)
//   recv [MS]          -> "text TEXT", "close CODE REASON", "error MESSAGE" or "timeout" (default 5000 ms)
//   close CODE [REASON]-> the client starts the close handshake: "closed CODE" or "error MESSAGE"
//   state              -> "state Open" (or Connecting, CloseReceived, Closed, Aborted, None)
//   quit               -> ends the program (the socket is aborted)
// Like Resonite, a receive is always pending (so pings are answered), and a close frame from the
// server is reported but not answered: the client does not finish the close handshake.
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

static class WsDriver
{
    static ClientWebSocket socket;
    static readonly BlockingCollection<string> events = new BlockingCollection<string>();

    static int Main()
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        stdout.AutoFlush = true;
        var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        string line;
        while ((line = stdin.ReadLine()) != null)
        {
            int space = line.IndexOf(' ');
            string verb = space < 0 ? line : line.Substring(0, space);
            string rest = space < 0 ? "" : line.Substring(space + 1);
            if (verb == "quit") break;
            stdout.WriteLine(Run(verb, rest));
        }
        if (socket != null) socket.Abort();
        return 0;
    }

    static string Run(string verb, string rest)
    {
        try
        {
            switch (verb)
            {
                case "connect": return Connect(rest);
                case "send": return Send(Unescape(rest));
                case "recv": return Receive(rest == "" ? 5000 : int.Parse(rest));
                case "close": return Close(rest);
                case "state": return "state " + (socket == null ? "None" : socket.State.ToString());
                default: return "error unknown command " + verb;
            }
        }
        catch (Exception error)
        {
            return "error " + Message(error);
        }
    }

    static string Connect(string url)
    {
        socket = new ClientWebSocket();
        socket.ConnectAsync(new Uri(url), CancellationToken.None).Wait();
        Task.Run(ReceiveLoop);
        return "open";
    }

    static string Send(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        socket.SendAsync(new ArraySegment<byte>(bytes), WebSocketMessageType.Text, true, CancellationToken.None).Wait();
        return "sent";
    }

    static string Receive(int ms)
    {
        string item;
        return events.TryTake(out item, ms) ? item : "timeout";
    }

    static string Close(string rest)
    {
        int space = rest.IndexOf(' ');
        int code = int.Parse(space < 0 ? rest : rest.Substring(0, space));
        string reason = space < 0 ? "" : rest.Substring(space + 1);
        socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, CancellationToken.None).Wait();
        return "closed " + code;
    }

    static async Task ReceiveLoop()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    events.Add("close " + (int)result.CloseStatus + " " + Escape(result.CloseStatusDescription ?? ""));
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                string kind = result.MessageType == WebSocketMessageType.Binary ? "binary " : "text ";
                events.Add(kind + Escape(Encoding.UTF8.GetString(message.ToArray())));
                message.SetLength(0);
            }
        }
        catch (Exception error)
        {
            events.Add("error " + Message(error));
        }
    }

    static string Message(Exception error)
    {
        while (error is AggregateException && error.InnerException != null) error = error.InnerException;
        return Escape(error.Message);
    }

    static string Escape(string text)
    {
        return text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r");
    }

    static string Unescape(string text)
    {
        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length) { result.Append(text[i]); continue; }
            char next = text[++i];
            result.Append(next == 'n' ? '\n' : next == 'r' ? '\r' : next);
        }
        return result.ToString();
    }
}
