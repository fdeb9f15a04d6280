"""What we know about Asterisk applications: names, removals and replacements."""

from __future__ import annotations

from toipkit.dialplan.catalog_data import APPS

__all__ = ["KNOWN_APPS", "REMOVED_APPS", "DEPRECATED_APPS", "canonical_app", "why_fr"]

# Applications of Asterisk 1.8 to 23 (every module, from the sources' XML documentation: see
# catalog.py) plus a few older names, lowercase. Application names are case-insensitive.
KNOWN_APPS = frozenset(APPS) | frozenset(a.lower() for a in """
AddQueueMember ADSIProg AELSub AGI AlarmReceiver AMD Answer AttendedTransfer AudioSocket
Authenticate BackGround BackgroundDetect BlindTransfer Bridge BridgeAdd BridgeWait Busy
CallCompletionCancel CallCompletionRequest CELGenUserEvent ChangeMonitor ChanIsAvail
ChannelRedirect ChanSpy ClearHash ConfBridge ConfKick Congestion ContinueWhile ControlPlayback
DAHDIRAS DAHDIScan DAHDISendCallreroutingFacility DAHDISendKeypadFacility DateTime DBdeltree
DeadAGI Dial Dictate Directory DISA DumpChan EAGI Echo EndWhile Exec ExecIf ExecIfTime ExitWhile
ExtenSpy ExternalIVR FAGI Festival Flash FollowMe ForkCDR GetCPEID Gosub GosubIf Goto GotoIf
GotoIfTime Hangup HangupCauseClear IAX2Provision ICES ImportVar Incomplete JabberJoin
JabberLeave JabberSend JabberSendGroup JabberStatus JACK Log MeetMe MeetMeAdmin
MeetMeChannelAdmin MeetMeCount MessageSend Milliwatt MinivmAccMess MinivmDelete MinivmGreet
MinivmMWI MinivmNotify MinivmRecord MixMonitor Monitor Morsecode MP3Player MSet MusicOnHold
NBScat NoCDR NoOp ODBC_Commit ODBC_Rollback Originate Page Park ParkAndAnnounce ParkedCall
PauseMonitor PauseQueueMember Pickup PickupChan Playback PlayTones PrivacyManager Proceeding
Progress Queue QueueLog QueueUpdate RaiseException Read ReadExten ReadFile ReceiveFAX
ReceiveText Record RemoveQueueMember ResetCDR RetryDial Return Ringing SayAlpha SayAlphaCase
SayCountedAdj SayCountedNoun SayDigits SayMoney SayNumber SayOrdinal SayPhonetic SayUnixTime
SendDTMF SendFAX SendImage SendText SendURL Set SetAMAFlags SetCallerPres SetMusicOnHold
SIPAddHeader SIPDtmfMode SIPRemoveHeader SkelGuessNumber SLAStation SLATrunk SMS SoftHangup
SpeechActivateGrammar SpeechBackground SpeechCreate SpeechDeactivateGrammar SpeechDestroy
SpeechLoadGrammar SpeechProcessingSound SpeechStart SpeechUnloadGrammar StackPop StartMusicOnHold
Stasis StatsD StopMixMonitor StopMonitor StopMusicOnHold StopPlayTones StoreDTMF StreamEcho
System TestClient TestServer Transfer TryExec TrySystem UnpauseMonitor UnpauseQueueMember
UserEvent Verbose VMAuthenticate VMSayName VoiceMail VoiceMailMain VoiceMailPlayMsg Wait
WaitDigit WaitExten WaitForCondition WaitForNoise WaitForRing WaitForSilence WaitUntil While
Zapateller PJSIPHangup PJSIPAOR ConfKick BridgeAdd SendMF Signal WaitForSignal Broadcast
""".split())

# Removed applications -> (what happened, the replacement). Calling one at runtime gives
# "No application 'X' for extension (...)" and the call ends.
REMOVED_APPS = {
    "setglobalvar": ("deprecated in 1.4, removed in 1.6.0", "Set(GLOBAL(name)=value)"),
    "macro": ("removed in Asterisk 21", "Gosub(context,exten,1(args)) + Return()"),
    "macroif": ("removed in Asterisk 21", "GosubIf(cond?label1:label2)"),
    "macroexit": ("removed in Asterisk 21", "Return()"),
    "macroexclusive": ("removed in Asterisk 21", "Gosub(context,exten,1(args))"),
    "dbget": ("removed (1.6)", "Set(var=${DB(family/key)})"),
    "dbput": ("removed (1.6)", "Set(DB(family/key)=value)"),
    "dbdel": ("removed", "Set(var=${DB_DELETE(family/key)})"),
    "setvar": ("removed", "Set(name=value)"),
    "setlanguage": ("removed", "Set(CHANNEL(language)=fr)"),
    "setcidnum": ("removed", "Set(CALLERID(num)=...)"),
    "setcidname": ("removed", "Set(CALLERID(name)=...)"),
    "setcallerid": ("removed", "Set(CALLERID(all)=...)"),
    "digittimeout": ("removed", "Set(TIMEOUT(digit)=seconds)"),
    "responsetimeout": ("removed", "Set(TIMEOUT(response)=seconds)"),
    "absolutetimeout": ("removed", "Set(TIMEOUT(absolute)=seconds)"),
    "waitmusiconhold": ("removed", "MusicOnHold(class,duration)"),
    "cut": ("removed", "${CUT(var,delimiter,field)}"),
    "getgroupcount": ("removed", "${GROUP_COUNT(group@category)}"),
    "setaccount": ("removed", "Set(CHANNEL(accountcode)=...)"),
    "lookupcidname": ("removed", "Set(CALLERID(name)=${DB(cidname/${CALLERID(num)})})"),
    "sipaddheader": ("removed with chan_sip in Asterisk 21", "Set(PJSIP_HEADER(add,Name)=value)"),
    "sipremoveheader": ("removed with chan_sip in Asterisk 21",
                        "Set(PJSIP_HEADER(remove,Name)=)"),
    "sipdtmfmode": ("removed with chan_sip in Asterisk 21", "Set(PJSIP_DTMF_MODE()=rfc4733)"),
    "monitor": ("removed in Asterisk 21", "MixMonitor(file.wav)"),
    "stopmonitor": ("removed in Asterisk 21", "StopMixMonitor()"),
}

# Still present but deprecated or needing extra modules.
DEPRECATED_APPS = {
    "meetme": ("deprecated since Asterisk 19, needs DAHDI timing (not built by default)",
               "ConfBridge(conference)"),
    "monitor": ("deprecated (removed in 21)", "MixMonitor(file.wav)"),
    "setmusiconhold": ("deprecated", "Set(CHANNEL(musicclass)=class)"),
}

_CANON = {a.lower(): a for a in """
AGI Answer BackGround Background Busy ConfBridge Congestion Dial Gosub GosubIf Goto GotoIf
GotoIfTime Hangup MeetMe NoOp Playback Progress Queue Read Return Ringing SayAlpha SayDigits
SayNumber Set VoiceMail VoiceMailMain Wait WaitExten Verbose Log MSet ExecIf Echo Record
""".split()}


def why_fr(why: str) -> str:
    """French wording of a removal/deprecation note."""
    return (why.replace("deprecated since", "dépréciée depuis")
            .replace("deprecated in", "dépréciée en").replace("deprecated", "dépréciée")
            .replace("removed in", "supprimée en").replace("removed", "supprimée")
            .replace("needs DAHDI timing (not built by default)",
                     "demande DAHDI (non compilé par défaut)"))


def canonical_app(name: str) -> str:
    return _CANON.get(name.lower(), name)
