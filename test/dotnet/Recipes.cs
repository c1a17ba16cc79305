// The ProtoFlux recipes of docs/protocol.md and docs/bridges.md, each written literally with the
// .NET string methods the stock nodes wrap, so test/recipes.test.ts can run them on the messages a
// running server sent to .NET's ClientWebSocket (test/dotnet/WsDriver.cs), in several cultures.
//
// Nodes and the methods standing in for them:
//   StartsWith / EndsWith / Contains  string.StartsWith(s) ...: culture-sensitive, no comparison input
//   IndexOfString (ComparisonMode = Ordinal, as the recipes say)   string.IndexOf(s, StringComparison.Ordinal)
//   Substring                          string.Substring
//   UnescapeUriDataString / EscapeUriDataString   Uri.UnescapeDataString / Uri.EscapeDataString
//   == (ValueEquals on strings)        string ==, ordinal
//   Parse bool/int/long/float/double/float3 see Parse below
// Mono's culture-sensitive comparison is not ICU: it does not reproduce what .NET on Windows does
// with a combining mark after a `|` (the server escapes those; test/codec.test.ts checks that).
//
// One command a line on stdin, its fields separated by a TAB, each escaped (\n \r \t \\); answers alike:
//   list                              -> the recipe ids
//   run CULTURE ID DATA [ARG]         -> "fires" and the recipe's outputs, or "no" when its branch does not fire
//   parse CULTURE TYPE TEXT           -> "parsed" and the value (invariant round-trip form), or "unparsed"
//   escape TEXT                       -> what EscapeUriDataString gives
// (any failure: "error" and the message)
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

static class Recipes
{
    delegate string[] Recipe(string data, string arg);

    // The recipe id (as marked in the docs: <!-- recipe: ID -->) and its steps. null: the branch does not fire.
    static readonly Dictionary<string, Recipe> recipes = new Dictionary<string, Recipe>
    {
        // pong: Data == "pong"
        { "pong", (data, arg) => data == "pong" ? new string[0] : null },
        // ok|<verb>|<subject>: Data == "ok|set|score"
        { "ok", (data, arg) => data == "ok|" + arg ? new string[0] : null },
        // value|score|42: StartsWith(Data, "value|score|") -> Substring(Data, Len) -> Unescape
        { "value-key", (data, arg) => {
            string start = "value|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            return new[] { Unescape(data.Substring(start.Length)) };
        } },
        // value|<key>|<value> for any key: cut "value|", split at the first |
        { "value-any", (data, arg) => {
            if (!data.StartsWith("value|")) return null;
            string rest = data.Substring(6);
            int bar = IndexOfString(rest, "|");
            return new[] { Unescape(rest.Substring(0, bar)), Unescape(rest.Substring(bar + 1)) };
        } },
        // missing|score: Data == "missing|score"
        { "missing", (data, arg) => data == "missing|" + arg ? new string[0] : null },
        // value#7|score|42: StartsWith(Data, "value#7|score|") -> Substring -> Unescape
        { "reply-id", (data, arg) => {
            string start = arg + "|";
            if (!data.StartsWith(start)) return null;
            return new[] { Unescape(data.Substring(start.Length)) };
        } },
        // msg|lobby|Alice|hello
        { "msg", (data, arg) => {
            string start = "msg|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            string rest = data.Substring(start.Length);
            int bar = IndexOfString(rest, "|");
            return new[] { Unescape(rest.Substring(0, bar)), Unescape(rest.Substring(bar + 1)) };
        } },
        // joined|lobby|Bob
        { "joined", (data, arg) => {
            string start = "joined|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            return new[] { Unescape(data.Substring(start.Length)) };
        } },
        // left|lobby|Bob
        { "left", (data, arg) => {
            string start = "left|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            return new[] { Unescape(data.Substring(start.Length)) };
        } },
        // dropped|<count>: StartsWith(Data, "dropped|") -> Substring(Data, 8) -> Parse long
        { "dropped", (data, arg) => data.StartsWith("dropped|") ? new[] { data.Substring(8) } : null },
        // error|<topic>|<text>
        { "error", (data, arg) => {
            if (!data.StartsWith("error|")) return null;
            string rest = data.Substring(6);
            int bar = IndexOfString(rest, "|");
            return new[] { Unescape(rest.Substring(0, bar)), Unescape(rest.Substring(bar + 1)) };
        } },
        // keys|<prefix>|<count>|<key>…: append a |, take the count, then count items
        { "keys", (data, arg) => {
            string start = "keys|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            string rest = data.Substring(start.Length) + "|";
            var outputs = new List<string>();
            int bar = IndexOfString(rest, "|");
            string countText = rest.Substring(0, bar);
            outputs.Add(countText);
            rest = rest.Substring(bar + 1);
            long count = ParseLong(countText);
            for (long i = 0; i < count; i++)
            {
                bar = IndexOfString(rest, "|");
                outputs.Add(Unescape(rest.Substring(0, bar)));
                rest = rest.Substring(bar + 1);
            }
            return outputs.ToArray();
        } },
        // members|<channel>|<total>|<shown>|<name>…: append a |, take total and shown, then shown names
        { "members", (data, arg) => {
            string start = "members|" + arg + "|";
            if (!data.StartsWith(start)) return null;
            string rest = data.Substring(start.Length) + "|";
            var outputs = new List<string>();
            int bar = IndexOfString(rest, "|");
            outputs.Add(rest.Substring(0, bar));
            rest = rest.Substring(bar + 1);
            bar = IndexOfString(rest, "|");
            string shownText = rest.Substring(0, bar);
            outputs.Add(shownText);
            rest = rest.Substring(bar + 1);
            long shown = ParseLong(shownText);
            for (long i = 0; i < shown; i++)
            {
                bar = IndexOfString(rest, "|");
                outputs.Add(Unescape(rest.Substring(0, bar)));
                rest = rest.Substring(bar + 1);
            }
            return outputs.ToArray();
        } },
        // help|<verbs> / help|<verb>|<usage>: StartsWith(Data, "help|") -> Unescape(Substring(Data, 5))
        { "help", (data, arg) => data.StartsWith("help|") ? new[] { Unescape(data.Substring(5)) } : null },
        // server|<text>
        { "server", (data, arg) => data.StartsWith("server|") ? new[] { Unescape(data.Substring(7)) } : null },
        // stderr|<line>
        { "stderr", (data, arg) => data.StartsWith("stderr|") ? new[] { Unescape(data.Substring(7)) } : null },
        // a custom command's reply with one field: pos|[1;2.5;3] -> StartsWith(Data, "pos|") -> Substring(Data, 4)
        { "custom", (data, arg) => {
            string start = arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // the relay endpoint: Data is the text as sent
        { "relay", (data, arg) => new[] { data } },
        // the value endpoint: Data is the bare value, straight into a Parse node
        { "value-endpoint", (data, arg) => new[] { data } },
        // bridges: osc|/hr|72 and mqtt|<topic>|21.5 -> StartsWith(Data, "osc|/hr|") -> Substring after it
        { "bridge-osc", (data, arg) => {
            string start = "osc|" + arg + "|";
            return data.StartsWith(start) ? new[] { data.Substring(start.Length) } : null;
        } },
        { "bridge-mqtt", (data, arg) => {
            string start = "mqtt|" + arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // weather#1|Paris|12.5 (an http bridge's answer to ask#1|Paris); arg is the tag with its id
        { "bridge-http", (data, arg) => {
            string start = arg + "|";
            if (!data.StartsWith(start)) return null;
            string rest = data.Substring(start.Length);
            int bar = IndexOfString(rest, "|");
            return new[] { Unescape(rest.Substring(0, bar)), Unescape(rest.Substring(bar + 1)) };
        } },
        // ha|light.kitchen|on: StartsWith(Data, "ha|light.kitchen|") -> Substring(Data, Len) -> Unescape
        { "bridge-ha", (data, arg) => {
            string start = "ha|" + arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // attr|light.kitchen|brightness|120: StartsWith(Data, "attr|light.kitchen|brightness|") -> Substring -> Unescape (then Parse)
        { "bridge-ha-attr", (data, arg) => {
            string start = "attr|" + arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // error|ha|light.kitchen|<why>: StartsWith(Data, "error|ha|light.kitchen|") -> Substring -> Unescape
        { "bridge-ha-error", (data, arg) => {
            string start = "error|ha|" + arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // llm answers: ai|partial|<text so far>, ai|done|<answer>, ai|error|<why> (ai#7|… with an id); arg is
        // the prefix before the text, e.g. "ai|done": StartsWith(Data, "ai|done|") -> Substring after it -> Unescape
        { "bridge-llm", (data, arg) => {
            string start = arg + "|";
            return data.StartsWith(start) ? new[] { Unescape(data.Substring(start.Length)) } : null;
        } },
        // twitch: chat|<name>|<text> -> name up to the first |, the rest is the text
        { "bridge-twitch", (data, arg) => {
            if (!data.StartsWith("chat|")) return null;
            string rest = data.Substring(5);
            int bar = IndexOfString(rest, "|");
            return new[] { Unescape(rest.Substring(0, bar)), Unescape(rest.Substring(bar + 1)) };
        } },
        // twitch, details: true: chat|<name>|<color>|<badges>|<text> -> three fields one at a time, the rest is the text
        { "bridge-twitch-details", (data, arg) => {
            if (!data.StartsWith("chat|")) return null;
            string rest = data.Substring(5);
            var outputs = new List<string>();
            for (int i = 0; i < 3; i++)
            {
                int bar = IndexOfString(rest, "|");
                outputs.Add(Unescape(rest.Substring(0, bar)));
                rest = rest.Substring(bar + 1);
            }
            outputs.Add(Unescape(rest));
            return outputs.ToArray();
        } },
        // heart-rate: hr|<bpm> or hr|lost -> Substring(Data, 3) -> Parse int (IsParsed false: lost)
        { "bridge-hr", (data, arg) => data.StartsWith("hr|") ? new[] { data.Substring(3) } : null },
        // obs: program|<scene> -> StartsWith(Data, "program|") -> Unescape(Substring(Data, 8))
        { "bridge-obs-program", (data, arg) => data.StartsWith("program|") ? new[] { Unescape(data.Substring(8)) } : null },
        // obs: muted|Mic|true -> StartsWith(Data, "muted|Mic|") -> Substring(Data, Len) -> Parse bool (arg: the name as it arrives)
        { "bridge-obs-muted", (data, arg) => {
            string start = "muted|" + arg + "|";
            return data.StartsWith(start) ? new[] { data.Substring(start.Length) } : null;
        } },
        // obs: streaming|started|true (arg: streaming or recording) -> cut "streaming|", split at the first |
        { "bridge-obs-output", (data, arg) => {
            string start = arg + "|";
            if (!data.StartsWith(start)) return null;
            string rest = data.Substring(start.Length);
            int bar = IndexOfString(rest, "|");
            return new[] { rest.Substring(0, bar), rest.Substring(bar + 1) };
        } },
        // obs: error|obs|<RequestType>|<comment> -> cut "error|obs|", split at the first |, unescape the comment
        { "bridge-obs-error", (data, arg) => {
            if (!data.StartsWith("error|obs|")) return null;
            string rest = data.Substring(10);
            int bar = IndexOfString(rest, "|");
            return new[] { rest.Substring(0, bar), Unescape(rest.Substring(bar + 1)) };
        } },
    };

    static int IndexOfString(string text, string part)
    {
        return text.IndexOf(part, StringComparison.Ordinal);
    }

    static string Unescape(string text)
    {
        return Uri.UnescapeDataString(text);
    }

    // Resonite's Parse nodes read numbers in the invariant culture (NeosPublic #3917: Parse Float does not
    // take a German "25,01"). RESONITE.md reports helpers that try the local culture first, then the invariant
    // one: both readings are run, and the answer counts only when they agree.
    static string Parse(string type, string text)
    {
        string invariant = ParseWith(type, text, CultureInfo.InvariantCulture);
        string local = ParseWith(type, text, CultureInfo.CurrentCulture) ?? invariant;
        if (invariant == null) return "unparsed";
        return local == invariant ? "parsed " + invariant : "disagree " + local + " / " + invariant;
    }

    static string ParseWith(string type, string text, CultureInfo culture)
    {
        const NumberStyles integer = NumberStyles.Integer;
        const NumberStyles real = NumberStyles.Float;
        switch (type)
        {
            case "bool": { bool v; return bool.TryParse(text, out v) ? (v ? "true" : "false") : null; }
            case "int": { int v; return int.TryParse(text, integer, culture, out v) ? v.ToString(CultureInfo.InvariantCulture) : null; }
            case "long": { long v; return long.TryParse(text, integer, culture, out v) ? v.ToString(CultureInfo.InvariantCulture) : null; }
            case "float": { float v; return float.TryParse(text, real, culture, out v) ? v.ToString("R", CultureInfo.InvariantCulture) : null; }
            case "double": { double v; return double.TryParse(text, real, culture, out v) ? v.ToString("R", CultureInfo.InvariantCulture) : null; }
            case "float3":
            {
                if (!text.StartsWith("[") || !text.EndsWith("]")) return null;
                var parts = text.Substring(1, text.Length - 2).Split(';');
                if (parts.Length != 3) return null;
                var values = parts.Select(part => ParseWith("float", part, culture)).ToArray();
                return values.Contains(null) ? null : "[" + string.Join(";", values) + "]";
            }
            default: throw new ArgumentException("unknown type " + type);
        }
    }

    static long ParseLong(string text)
    {
        string parsed = Parse("long", text);
        if (!parsed.StartsWith("parsed ", StringComparison.Ordinal)) throw new FormatException("the count \"" + text + "\" does not parse");
        return long.Parse(parsed.Substring(7), CultureInfo.InvariantCulture);
    }

    static int Main()
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        stdout.AutoFlush = true;
        var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        string line;
        while ((line = stdin.ReadLine()) != null)
        {
            string[] parts = line.Split('\t').Select(Decode).ToArray();
            string[] answer;
            try
            {
                answer = Run(parts);
            }
            catch (Exception error)
            {
                answer = new[] { "error", error.GetType().Name + ": " + error.Message };
            }
            stdout.WriteLine(string.Join("\t", answer.Select(Encode)));
        }
        return 0;
    }

    static string[] Run(string[] parts)
    {
        switch (parts[0])
        {
            case "list":
                return recipes.Keys.OrderBy(id => id, StringComparer.Ordinal).ToArray();
            case "escape":
                return new[] { Uri.EscapeDataString(parts[1]) };
            case "parse":
                Thread.CurrentThread.CurrentCulture = new CultureInfo(parts[1]);
                return Parse(parts[2], parts[3]).Split(new[] { ' ' }, 2);
            case "run":
            {
                Thread.CurrentThread.CurrentCulture = new CultureInfo(parts[1]);
                string[] outputs = recipes[parts[2]](parts[3], parts.Length > 4 ? parts[4] : "");
                return outputs == null ? new[] { "no" } : new[] { "fires" }.Concat(outputs).ToArray();
            }
            default:
                throw new ArgumentException("unknown command " + parts[0]);
        }
    }

    static string Encode(string text)
    {
        return text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
    }

    static string Decode(string text)
    {
        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length) { result.Append(text[i]); continue; }
            char next = text[++i];
            result.Append(next == 'n' ? '\n' : next == 'r' ? '\r' : next == 't' ? '\t' : next);
        }
        return result.ToString();
    }
}
