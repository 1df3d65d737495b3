# The mail server of the alert tests: aiosmtpd (Debian's python3-aiosmtpd) with a handler that writes every message
# it accepts as one JSON file: the name the client gave in HELO/EHLO, the envelope, the headers and the body.
import itertools
import json
import os

from aiosmtpd.handlers import Message


class JsonSink(Message):
    def __init__(self, directory):
        super().__init__()
        self.directory = directory
        self.count = itertools.count()

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("JsonSink needs the directory to write to")
        return cls(args[0])

    def prepare_message(self, session, envelope):
        message = super().prepare_message(session, envelope)
        message["X-Helo"] = session.host_name
        return message

    def handle_message(self, message):
        record = {
            "helo": message["X-Helo"],
            "mailFrom": message["X-MailFrom"],
            "rcptTo": message["X-RcptTo"].split(", "),
            # Unfolded: a long Subject arrives folded over two lines.
            "headers": {k.lower(): str(v).replace("\r\n", "").replace("\n", "") for k, v in message.items()},
            "body": message.get_payload(decode=True).decode(),
        }
        path = os.path.join(self.directory, "%06d.json" % next(self.count))
        # Written whole, then renamed: a reader never sees half a message.
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
