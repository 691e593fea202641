package account

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Service is a part of a person's account that the files can set up.
type Service string

const (
	// ServiceMail is IMAP or POP3 and SMTP: always set up.
	ServiceMail Service = "mail"
	// ServiceCalendar is the provider's CalDAV calendars.
	ServiceCalendar Service = "calendar"
	// ServiceContacts is the provider's CardDAV address books.
	ServiceContacts Service = "contacts"
)

// AllServices lists the services in the order they are named.
var AllServices = []Service{ServiceMail, ServiceCalendar, ServiceContacts}

// ErrBadServices: a --services list names something unknown or leaves out
// mail.
var ErrBadServices = errors.New("account: bad services")

// davKind is the DAV kind that carries s ("" for mail).
func (s Service) davKind() autoconfig.DAVKind {
	switch s {
	case ServiceCalendar:
		return autoconfig.CalDAV
	case ServiceContacts:
		return autoconfig.CardDAV
	}
	return ""
}

// ParseServices reads a comma-separated list such as "mail,calendar" or
// "all", the same in every command. Mail cannot be left out: every file
// this tool writes sets up a mail account, and calendar and contacts come
// with it.
func ParseServices(s string) ([]Service, error) {
	want := map[Service]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "all":
			for _, a := range AllServices {
				want[a] = true
			}
		case slices.Contains(AllServices, Service(name)):
			want[Service(name)] = true
		default:
			return nil, fmt.Errorf("%w: %q is not a service: use mail, calendar, contacts or all", ErrBadServices, name)
		}
	}
	if !want[ServiceMail] {
		return nil, fmt.Errorf("%w: %q leaves out mail, which every file sets up: write mail,%s", ErrBadServices, s, strings.TrimSpace(s))
	}
	var out []Service
	for _, a := range AllServices {
		if want[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

// MailOnly reports whether chosen leaves out calendars and contacts, so a
// probe need not look for them. nil chooses everything the provider offers.
func MailOnly(chosen []Service) bool {
	return chosen != nil && !slices.Contains(chosen, ServiceCalendar) && !slices.Contains(chosen, ServiceContacts)
}

// chooseServices returns p with only the calendar and contacts services
// chosen (nil chooses all), the services that will be set up, and those
// chosen that p does not offer.
func chooseServices(p *autoconfig.Provider, chosen []Service) (out *autoconfig.Provider, setUp, missing []Service) {
	out = p.Clone()
	out.DAV = nil
	setUp = []Service{ServiceMail}
	for _, s := range AllServices[1:] {
		asked := chosen == nil || slices.Contains(chosen, s)
		d, found := p.FirstDAV(s.davKind())
		switch {
		case asked && found:
			out.DAV = append(out.DAV, d)
			setUp = append(setUp, s)
		case asked && chosen != nil:
			missing = append(missing, s)
		}
	}
	return out, setUp, missing
}
